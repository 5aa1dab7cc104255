"""Kernels forked for other processes: one fork server for every worker of a training run.

A training run starts a worker process per attendee, and each worker would start a kernel
fork server of its own (run.kernel_fork), importing ipykernel, the kubernetes client, pandas and
pyplot again: 1.3 s of CPU per attendee. Instead the training run lends its own fork server:
a worker asks over a Unix socket in a folder only its user may open (0700), with a key
(multiprocessing's authenticated connections), for a kernel forked with the worker's
arguments, environment and working folder; the kernel's standard streams go to the worker's
log. The worker then asks for the kernel's exit code, and signals its process group itself, as
jupyter_client does. When a worker's connection closes (it finished, failed or was killed),
its kernels still running are killed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from multiprocessing.process import BaseProcess
from pathlib import Path

ADDRESS_ENV = "AKS_RUNBOOK_KERNEL_SERVICE"  # these three never reach a kernel
KEY_ENV = "AKS_RUNBOOK_KERNEL_SERVICE_KEY"
LOG_ENV = "AKS_RUNBOOK_KERNEL_LOG"  # where the worker's kernels write (its run.log)
EXIT_SECONDS = 5  # for a kernel killed because its worker went


class KernelService:
    """In the training run's process: forks kernels for its workers with `fork` (argv, env,
    cwd, log -> a started multiprocessing process, run.kernel_fork.fork)."""

    def __init__(self, fork: Callable[[list[str], dict[str, str], str, str | None], BaseProcess]):
        self._fork = fork
        self._folder = Path(tempfile.mkdtemp(prefix="aks-runbook-kernels-"))  # 0700
        self._key = secrets.token_bytes(32)
        self._listener = Listener(str(self._folder / "socket"), "AF_UNIX", authkey=self._key)
        self._closed = threading.Event()
        self._forking = threading.Lock()
        threading.Thread(target=self._accept, name="kernel-service", daemon=True).start()

    def environment(self, log: Path) -> dict[str, str]:
        """What a worker needs to ask for kernels that write to `log`."""
        return {ADDRESS_ENV: str(self._listener.address), KEY_ENV: self._key.hex(),
                LOG_ENV: str(log)}

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> KernelService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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
                    with self._forking:
                        kernel = self._fork(*args)
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
        return ServedKernel(self, self.ask("start", argv, env, cwd, self._log))

    def close(self) -> None:
        """Done with the service: the kernels it forked for us and still runs are killed."""
        self._connection.close()


_lender: Lender | None = None
ENVIRONMENT = (ADDRESS_ENV, KEY_ENV, LOG_ENV)


def client() -> Lender | None:
    """This process's lender, if it was started with a service's environment (which is taken
    out of os.environ, so its kernels do not see the key)."""
    global _lender
    if _lender is None and ADDRESS_ENV in os.environ:
        _lender = Lender(os.environ.pop(ADDRESS_ENV), bytes.fromhex(os.environ.pop(KEY_ENV)),
                         os.environ.pop(LOG_ENV))
    return _lender
