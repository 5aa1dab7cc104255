"""Imported once by the kernels' fork server (run.kernel_fork), before it forks a kernel: the
modules every chapter kernel imports, so each forked kernel finds them loaded.

- ipykernel's kernel class and its debugger module (with debugpy), which the kernel class
  imports only when a kernel starts (a tenth of a second of each kernel's CPU), and psutil,
  which a kernel imports when it shuts down, to find its child processes.
- pandas, as it would be imported inside a kernel. pandas picks one default at import by its
  front end: `display.max_columns` is 20 under a Jupyter kernel and 0 (fit the terminal)
  elsewhere. It finds out by calling IPython's `get_ipython()`; this process has no IPython
  shell, so for that import it is shown one with a kernel, as every process it forks will have.
- matplotlib's pyplot, which chapters 02 and 04 draw with (a third of a second of CPU each
  time). matplotlib takes its backend from MPLBACKEND at import, and a kernel sets MPLBACKEND
  to its inline backend when it starts unless the environment has one (ipykernel's
  IPKernelApp.init_gui_pylab): this process does the same first. The inline backend module
  itself is left to the kernel: it hooks into the kernel's shell when imported. matplotlib also
  reads a `matplotlibrc` in the working folder at import; run.kernel_fork starts a kernel the
  usual way where its folder has one.
- numpy comes with pandas. Its OpenBLAS starts worker threads at import, and a forked child
  keeps only the thread that forked, so this process asks OpenBLAS for none (the chapters'
  arrays are tiny). Kernels get their own environment, so the setting does not reach them.

The package itself is not preloaded: ipywidgets registers its comm handlers at import only
when it finds a running kernel.

Last, every object made so far is moved out of the garbage collector's reach (`gc.freeze()`,
as the gc module's documentation advises before forking). A forked kernel's collections would
otherwise walk these objects too, and writing their collector headers copies the memory pages
the kernel shares with this process: that was a sixth of each kernel's CPU (0.64 s -> 0.54 s
on average over a chapter run, bench/README.md).
"""

from __future__ import annotations

import builtins
import gc
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

# pydevd warns at import, on this process's stderr (the run's terminal), that frozen modules
# may make breakpoints miss; that variable only quiets the warning. A kernel started the usual
# way still says it, in its own log.
os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
import ipykernel.debugger  # noqa: E402, F401 - loaded for the kernels forked from here
import ipykernel.ipkernel  # noqa: E402, F401
import psutil  # noqa: E402, F401


class _KernelShell:
    kernel = True  # the one thing pandas' is_terminal() looks at


def _import_pandas_as_in_a_kernel() -> None:
    builtins.get_ipython = lambda: _KernelShell  # type: ignore[attr-defined]
    try:
        import pandas  # noqa: F401
    finally:
        del builtins.get_ipython  # type: ignore[attr-defined]


_import_pandas_as_in_a_kernel()

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets
if not os.environ.get("MPLBACKEND"):
    os.environ["MPLBACKEND"] = INLINE_BACKEND
import matplotlib.pyplot  # noqa: E402, F401

gc.freeze()
