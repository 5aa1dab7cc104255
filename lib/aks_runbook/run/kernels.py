"""The kernels a headless run executes its chapters in.

Kernels talk over IPC (Unix sockets in Jupyter's runtime directory), so no TCP port is opened.
They are forked from a server that has imported ipykernel and the kubernetes client
(run.kernel_fork). A run starts the next chapter's kernel in the background while the current
chapter runs, and has it import the modules the chapter imports (pandas, the package: about
2 s of CPU), so that work overlaps the chapter before instead of following it. The imports
run silently in a throwaway namespace: the chapter's own cells still bind every name they use.
"""

from __future__ import annotations

import ast
import json
import queue
import threading
import uuid
from pathlib import Path

from jupyter_core.utils import run_sync

from aks_runbook.run import kernel_fork

HISTORY = "--HistoryManager.hist_file=:memory:"  # as nbclient starts kernels
WARM_UP = """\
import importlib
for name in {names!r}:
    try:
        importlib.import_module(name)
    except ImportError:  # `from package import function`: the package is imported already
        pass
"""


def ipc_kernel_manager():
    """A kernel manager class whose kernels talk over IPC: no TCP port is opened, so no
    "running over TCP without encryption" warning reaches the terminal. Its kernels are
    forked (run.kernel_fork). It keeps the client it made last (nbclient's), so a run can
    close it with a kernel it started itself."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import Unicode, default

    class IPCKernelManager(AsyncKernelManager):
        transport = Unicode("ipc")
        last_client = None

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            self.provisioner = kernel_fork.ForkedProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)

        @default("ip")
        def _unique_socket_path(self) -> str:
            # jupyter_client's default is kernel-ipc-<n> in the working directory, where
            # kernels started at the same time (training runs) would take each other's sockets
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
            return str(runtime / f"aks-runbook-{uuid.uuid4().hex[:12]}")

        def client(self, **kwargs):
            self.last_client = super().client(**kwargs)
            return self.last_client

    return IPCKernelManager


def imported_modules(notebook: Path) -> list[str]:
    """The modules a notebook's code cells import, in order (for `from a import b`, both `a`
    and `a.b`: b may be a module)."""
    names: list[str] = []
    for cell in json.loads(notebook.read_text())["cells"]:  # nbformat costs 2 s to import
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        try:
            tree = ast.parse(source if isinstance(source, str) else "".join(source))
        except SyntaxError:  # IPython syntax (magics): nothing to learn from it
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return list(dict.fromkeys(names))


class Ahead:
    """The kernels of a run's chapters, each started one chapter ahead: the first at once
    (it boots while papermill loads), each next one while the chapter before it runs."""

    def __init__(self, notebooks: list[Path]):
        self.notebooks = notebooks
        self.next = NextKernel(notebooks[0]) if notebooks else None
        self._released: list = []  # kernel managers asked to shut down

    def take(self, index: int):
        """The kernel manager for chapter `index`; the next chapter's kernel starts now."""
        kernel = (self.next or NextKernel(self.notebooks[index])).adopt()
        self.next = None
        if index + 1 < len(self.notebooks):
            self.next = NextKernel(self.notebooks[index + 1])
        return kernel

    def release(self, manager) -> None:
        """Ask a chapter's kernel to shut down, and go on: it says goodbye (most of a
        second) while the next chapter runs; `close` sees it gone."""
        run_sync(manager.request_shutdown)()
        self._released.append(manager)

    def close(self) -> None:
        """Stop a kernel started for a chapter that does not run (after a failure, Ctrl-C),
        and see every released kernel gone."""
        if self.next is not None:
            self.next.stop()
            self.next = None
        for manager in self._released:
            run_sync(_finish)(manager)
        self._released = []


class NextKernel:
    """A chapter's kernel, started in the background before the chapter: `adopt()` hands it
    over once it is up and has imported the chapter's modules, `stop()` ends it if the
    chapter never runs."""

    def __init__(self, notebook: Path, timeout: float = 120):
        self.manager = ipc_kernel_manager()(kernel_name="python3")
        self._failed: BaseException | None = None
        self._starting = threading.Thread(target=self._start, args=(notebook, timeout),
                                          name=f"kernel for {notebook.name}", daemon=True)
        self._starting.start()

    def _start(self, notebook: Path, timeout: float) -> None:
        try:
            run_sync(self.manager.start_kernel)(cwd=str(notebook.parent),
                                                extra_arguments=[HISTORY])
            warm_up = self.manager.blocking_client()
            warm_up.start_channels()
            try:
                request = warm_up.execute(WARM_UP.format(names=imported_modules(notebook)),
                                          silent=True, store_history=False)
                # done once the kernel replies (or `timeout` passed: the chapter's client then
                # waits for the kernel as for any other)
                while warm_up.get_shell_msg(timeout=timeout)["parent_header"].get(
                        "msg_id") != request:
                    pass
            except queue.Empty:
                pass
            finally:
                warm_up.stop_channels()
        except BaseException as error:  # raised where the kernel is wanted
            self._failed = error

    def adopt(self):
        """The kernel manager, once the kernel is up (a failure to start it raises here)."""
        self._starting.join()
        if self._failed is not None:
            raise self._failed
        return self.manager

    def stop(self) -> None:
        self._starting.join()
        stop(self.manager)


def stop(manager) -> None:
    """Stop a run's kernel at once (its chapter interrupted, or never run)."""
    run_sync(_stop)(manager)


async def _stop(manager) -> None:
    try:
        if await manager.is_alive():
            await manager.shutdown_kernel(now=True)
    finally:
        await _forget(manager)


async def _finish(manager) -> None:
    """A kernel asked to shut down: wait for it to exit (killed after jupyter_client's grace
    period)."""
    try:
        await manager.finish_shutdown()
    finally:
        await _forget(manager)


async def _forget(manager) -> None:
    """Close what belonged to a kernel: its connection files and the client nbclient made
    for it (nbclient closes only what it started itself)."""
    await manager.cleanup_resources()
    if manager.last_client is not None:
        manager.last_client.stop_channels()
