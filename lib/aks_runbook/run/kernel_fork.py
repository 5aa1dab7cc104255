"""Kernels forked from a process that has imported ipykernel and the kubernetes client already.

A kernel started the usual way is a new Python process that imports ipykernel (with IPython,
zmq and tornado) and then the chapter's modules: the kubernetes client alone costs 1.5 s of
CPU. Python's multiprocessing fork server imports ipykernel, the kubernetes client and the
other modules of PRELOAD once per process (with its first kernel), and each kernel is forked
from it. The kernel is the same ipykernel that `python -m ipykernel_launcher` starts, with the
same arguments, environment and working directory, in a session of its own (so an interrupt
reaches its process group, as jupyter_client's launcher arranges); only its parent differs (the
fork server), so it is told its real parent's pid (`parent_handle`: its default was read from
the environment when the fork server imported ipykernel). The fork server lives as long as the
process that started it (a run, a training worker, a test session) and starts nothing else. It
listens on a Unix socket in a temporary folder only its user may open (0700, made by
multiprocessing), never on a network port.

Only modules that behave the same imported here as inside a kernel are preloaded: pandas, which
picks one display default by its front end, and matplotlib, which picks its backend, are
imported as inside a kernel (run.kernel_preload). A kernel whose working folder has a
`matplotlibrc` (matplotlib reads it at import) starts the usual way. The package stays out
(ipywidgets registers its comm handlers at import only in a running kernel): the chapters
import it in the kernel itself, as run.kernels arranges.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

from aks_runbook.run import kernel_service

LAUNCHER = ["-m", "ipykernel_launcher"]
# The parameter model (pydantic) reads neither its front end nor the environment at import:
# 0.2 s of each kernel's CPU. run.kernel_preload brings ipykernel's kernel class and debugger,
# pandas (with numpy, its BLAS kept to one thread) and pyplot, as a kernel would have imported
# them, and then keeps the collector of each forked kernel off all of it (gc.freeze).
PRELOAD = ["ipykernel.kernelapp", "kubernetes.client", "aks_runbook.params",
           "aks_runbook.run.kernel_preload"]
READY_TIMEOUT = 120  # seconds for the fork server's imports and the fork
_context = multiprocessing.get_context("forkserver")


def _ensure_server() -> None:
    """Start the fork server importing PRELOAD, if it is not running yet (multiprocessing's
    default would preload the caller's `__main__`, and with it whatever that imports)."""
    from multiprocessing import forkserver

    _context.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def _same_python(executable: str) -> bool:
    # not resolved: a virtual environment's python links to the base one, with other packages
    return os.path.abspath(executable) == os.path.abspath(sys.executable)


class ForkedProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with IPython kernels of this Python forked from
    the fork server instead of started anew; any other kernel command starts as usual."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        cwd = str(kwargs.get("cwd") or Path.cwd())
        if cmd[1:3] != LAUNCHER or not _same_python(cmd[0]) or \
                (Path(cwd) / "matplotlibrc").exists():
            return await super().launch_kernel(cmd, **kwargs)
        # JPY_PARENT_PID as jupyter_client's launcher sets it
        env = {name: value for name, value in (kwargs.get("env") or os.environ).items()
               if name not in kernel_service.ENVIRONMENT}
        env["JPY_PARENT_PID"] = str(os.getpid())
        argv = [*cmd[3:], f"--IPKernelApp.parent_handle={os.getpid()}"]
        lender = kernel_service.client()
        if lender is not None:  # a training worker: its training run forks the kernel
            self.process = lender.start(argv, env, cwd)
        else:
            self.process = ForkedProcess(fork(argv, env, cwd))
        self.pid = self.pgid = self.process.pid
        self.cwd = cwd
        return self.connection_info


def fork(argv: list[str], env: dict[str, str], cwd: str, log: str | None = None):
    """A kernel `python -m ipykernel_launcher argv` would be, forked from this process's fork
    server, once it leads its own session. With `log`, its standard streams go to that file
    (appended), as those of a kernel started by the process that keeps the log would."""
    _ensure_server()
    started, started_in_child = _context.Pipe(duplex=False)
    process = _context.Process(target=_kernel, args=(argv, env, cwd, started_in_child, log),
                               name="ipykernel", daemon=True)
    process.start()
    started_in_child.close()
    try:
        if not started.poll(READY_TIMEOUT):
            process.kill()
            raise RuntimeError(f"a forked kernel did not start in {READY_TIMEOUT} s")
        started.recv()  # the kernel leads its own session now
    finally:
        started.close()
    return process


class ForkedProcess:
    """The part of `subprocess.Popen` a provisioner uses, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process, self.pid = process, process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("ipykernel", timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self._process.kill()

    def terminate(self) -> None:
        self._process.terminate()


def _kernel(argv: list[str], env: dict[str, str], cwd: str, started, log: str | None) -> None:
    """In the forked child: become the kernel `python -m ipykernel_launcher argv` would be."""
    os.setsid()
    if log:
        _streams_to(log)
    started.send(True)
    started.close()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv)


def _streams_to(log: str) -> None:
    """Standard output and error appended to `log`, standard input empty."""
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(nothing)
