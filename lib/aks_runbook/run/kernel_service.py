"""Kernels forked for other processes: one fork server for every worker of a training run.

A training run starts a worker process per attendee, and each worker would start a kernel
fork server of its own (run.kernel_fork), importing ipykernel, the kubernetes client, pandas and
pyplot again: 1.3 s of CPU per attendee. Instead the training run starts one kernel server
(`KernelServer`: the process run.kernel_server, in a session of its own) that forks every
worker's kernels. A worker asks it over a Unix socket in a folder only its user may open (0700),
with a key (multiprocessing's authenticated connections, the key given on standard input, never
on a command line), for a kernel with the worker's arguments, environment and working folder;
the kernel's standard streams go to the worker's log. The worker then asks for the kernel's
exit code, and signals its process group itself, as jupyter_client does. When a worker's
connection closes (it finished, failed or was killed), its kernels still running are killed;
when the training run closes the server, every kernel left is.

The kernels import the server's main module again (multiprocessing's __mp_main__, a forked
process's copy of its parent's main): that is run.kernel_server, never the script that called
the training run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from multiprocessing.process import BaseProcess
from pathlib import Path

ADDRESS_ENV = "AKS_RUNBOOK_KERNEL_SERVICE"
KEY_ENV = "AKS_RUNBOOK_KERNEL_SERVICE_KEY"
LOG_ENV = "AKS_RUNBOOK_KERNEL_LOG"  # where the worker's kernels write (its run.log)
ENVIRONMENT = (ADDRESS_ENV, KEY_ENV, LOG_ENV)  # never reaches a kernel
EXIT_SECONDS = 5  # for a kernel killed because its worker went
STOP_SECONDS = 15  # for the kernel server to kill its kernels and end


class KernelServer:
    """In the training run: the kernel server's process, started and stopped with the run."""

    def __init__(self):
        self._folder = Path(tempfile.mkdtemp(prefix="aks-runbook-kernels-"))  # 0700
        self._address = str(self._folder / "socket")
        self._key = secrets.token_bytes(32)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "aks_runbook.run.kernel_server"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, start_new_session=True)  # Ctrl-C: the run's
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps({"address": self._address,
                                              "key": self._key.hex()}) + "\n")
        self._process.stdin.flush()
        if self._process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the kernel server did not start (python -m "
                               "aks_runbook.run.kernel_server)")

    def environment(self, log: Path) -> dict[str, str]:
        """What a worker needs to ask for kernels that write to `log`."""
        return {ADDRESS_ENV: self._address, KEY_ENV: self._key.hex(), LOG_ENV: str(log)}

    def close(self) -> None:
        """Stop the server (its end of standard input closes): every kernel left is killed."""
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> KernelServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class KernelService:
    """In the kernel server's process: forks kernels for the workers that connect with the key,
    with `fork` (argv, env, cwd, log -> a started multiprocessing process)."""

    def __init__(self, fork: Callable[[list[str], dict[str, str], str, str | None], BaseProcess],
                 address: str, key: bytes):
        self._fork = fork
        self._listener = Listener(address, "AF_UNIX", authkey=key)
        self._closed = threading.Event()
        self._forking = threading.Lock()
        threading.Thread(target=self._accept, name="kernel-service", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):  # closed, or not a worker of ours
                continue
            threading.Thread(target=self._serve, args=(connection,), name="kernel-service",
                             daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        kernels: dict[int, BaseProcess] = {}
        try:
            while True:
                request, *args = connection.recv()
                if request == "start":
                    try:
                        with self._forking:
                            kernel = self._fork(*args)
                    except Exception as error:  # noqa: BLE001 - the worker reports it
                        connection.send(f"{type(error).__name__}: {error}")
                        continue
                    kernels[kernel.pid] = kernel
                    connection.send(kernel.pid)
                elif request == "exitcode":
                    connection.send(kernels[args[0]].exitcode)
        except (EOFError, OSError):
            pass
        finally:
            connection.close()
            for kernel in kernels.values():
                if kernel.exitcode is None:
                    kernel.kill()
                    kernel.join(EXIT_SECONDS)


class ServedKernel:
    """The part of `subprocess.Popen` a provisioner uses, for a kernel the service forked."""

    stdin = stdout = stderr = None

    def __init__(self, lender: Lender, pid: int):
        self._lender, self.pid = lender, pid

    def poll(self) -> int | None:
        return self._lender.ask("exitcode", self.pid)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("ipykernel", timeout)
            time.sleep(0.05)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # its pid is not yet anyone else's
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Lender:
    """In a worker: its connection to the training run's kernel service."""

    def __init__(self, address: str, key: bytes, log: str):
        self._connection = Client(address, "AF_UNIX", authkey=key)
        self._log = log
        self._lock = threading.Lock()

    def ask(self, *request):
        with self._lock:
            self._connection.send(request)
            return self._connection.recv()

    def start(self, argv: list[str], env: dict[str, str], cwd: str) -> ServedKernel:
        pid = self.ask("start", argv, env, cwd, self._log)
        if not isinstance(pid, int):  # why the server could not fork it
            raise RuntimeError(f"the kernel server could not start a kernel: {pid}")
        return ServedKernel(self, pid)

    def close(self) -> None:
        """Done with the service: the kernels it forked for us and still runs are killed."""
        self._connection.close()


_lender: Lender | None = None


def client() -> Lender | None:
    """This process's lender, if it was started with a service's environment (which is taken
    out of os.environ, so its kernels do not see the key)."""
    global _lender
    if _lender is None and ADDRESS_ENV in os.environ:
        _lender = Lender(os.environ.pop(ADDRESS_ENV), bytes.fromhex(os.environ.pop(KEY_ENV)),
                         os.environ.pop(LOG_ENV))
    return _lender
