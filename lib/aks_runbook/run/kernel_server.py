"""The kernel server's process (run.kernel_service.KernelServer starts it):

    python -m aks_runbook.run.kernel_server

reads {"address": ..., "key": ...} on its first line of standard input, serves kernel forks
there (run.kernel_service.KernelService, with run.kernel_fork's fork server), says "ready" on
standard output, and ends when its standard input closes. Its kernels, forked children of this
process, are killed when it ends (multiprocessing ends its daemonic children at exit).
"""

from __future__ import annotations

import json
import sys

from aks_runbook.run import kernel_fork, kernel_service


def main() -> int:
    config = json.loads(sys.stdin.readline())
    service = kernel_service.KernelService(kernel_fork.fork, config["address"],
                                           bytes.fromhex(config["key"]))
    print("ready", flush=True)
    sys.stdin.read()  # until the training run closes it, or ends
    service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
