"""Issue 12: re-running the parameters cell in a live kernel. A real kernel executes the chapter's
own first cells one by one, in the orders a person tries; what is asserted is what they see.

The parameters cell is the notebook's, with `target` set to 'aks' (plan only: no cluster, no
Azure) so the derived Azure names show which prefix the session took.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from papermill.translators import translate_parameters

pytestmark = pytest.mark.slow  # a Jupyter kernel per test

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01-overview.ipynb"


def _chapter_cells() -> tuple[str, str, str]:
    """The notebook's `begin` cell, its parameters cell (plan-only aks) and its `start` cell."""
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
             if c.cell_type == "code"]
    begin = next(c for c in cells if "nb.begin(globals())" in c)
    params = next(c for c in cells if c.startswith("# Parameters"))
    start = next(c for c in cells if "nb.start(globals()" in c)
    assert "target: str = 'local'" in params
    return begin, params.replace("target: str = 'local'", "target: str = 'aks'"), start


BEGIN, PARAMS, START = _chapter_cells()


class Kernel:
    """A live kernel: run() returns what the cell printed, or raises with the error shown."""

    def __init__(self):
        self.manager, self.client = start_new_kernel(kernel_name="python3",
                                                     cwd=str(NOTEBOOK.parent))

    def run(self, source: str) -> str:
        self._out: list[str] = []
        self._error: str | None = None
        reply = self.client.execute_interactive(source, timeout=120, output_hook=self._collect)
        if reply["content"]["status"] != "ok":
            raise CellError(self._error or reply["content"].get("evalue", ""))
        return "".join(self._out)

    def _collect(self, message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            self._out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            self._out.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            self._error = f"{content['ename']}: {content['evalue']}"

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


class CellError(Exception):
    pass


@pytest.fixture
def kernel():
    live = Kernel()
    yield live
    live.close()


def _with_prefix(prefix: str) -> str:
    assert "prefix: str = 'demo'" in PARAMS
    return PARAMS.replace("prefix: str = 'demo'", f"prefix: str = {prefix!r}")


def _run_all(kernel: Kernel) -> str:
    kernel.run(BEGIN)
    kernel.run(PARAMS)
    shown = kernel.run(START)
    assert "resource group rg-demo-local" in shown
    return shown


def test_changing_prefix_and_rerunning_parameters_then_start(kernel):
    _run_all(kernel)
    kernel.run("steps = ['a later cell']\nenv = session.env")  # names later cells define
    kernel.run(_with_prefix("team7"))
    shown = kernel.run(START)
    assert "resource group rg-team7-local, cluster aks-team7-local, registry acrteam7local" \
        in shown


def test_rerunning_start_alone_and_begin_again(kernel):
    _run_all(kernel)
    assert "rg-demo-local" in kernel.run(START)
    kernel.run(BEGIN)
    assert "rg-demo-local" in kernel.run(START)
    kernel.run(_with_prefix("again"))
    kernel.run(BEGIN)  # begin re-run after the parameters: the parameters still count
    assert "rg-again-local" in kernel.run(START)


def test_a_later_cell_then_parameters_again(kernel):
    _run_all(kernel)
    kernel.run("NS2 = 'other'\nsession2 = session")
    kernel.run(_with_prefix("later"))
    kernel.run("x = 1")  # something else between the parameters and start
    assert "rg-later-local" in kernel.run(START)


def test_a_typo_in_the_parameters_cell_is_caught_and_gone_once_fixed(kernel):
    _run_all(kernel)
    kernel.run(PARAMS + "\nprefx = 'x'")
    with pytest.raises(CellError) as error:
        kernel.run(START)
    assert "ParameterError: unknown parameter(s): prefx." in str(error.value)
    assert "NS" not in str(error.value).partition("Known")[0]
    kernel.run(_with_prefix("fixed"))  # the typo removed; `prefx` still lives in the kernel
    assert "rg-fixed-local" in kernel.run(START)


def test_a_parameter_removed_from_the_cell_does_not_linger(kernel):
    kernel.run(BEGIN)
    kernel.run(_with_prefix("keepme").replace("keep: bool = False", "keep: bool = True"))
    kernel.run(START)
    assert kernel.run("print(session.env.keep)").strip() == "True"
    without = "\n".join(line for line in PARAMS.splitlines() if not line.startswith("keep:"))
    kernel.run(without)
    kernel.run(START)
    assert kernel.run("print(session.env.keep)").strip() == "False"


def test_papermills_injected_cell_counts_and_its_typos_are_caught(kernel):
    kernel.run(BEGIN)
    kernel.run(PARAMS)
    kernel.run(translate_parameters("python3", "python", {"prefix": "inj"}))
    assert "rg-inj-local" in kernel.run(START)

    kernel.run(PARAMS)
    kernel.run(translate_parameters("python3", "python", {"prefx": "x"}))  # `-p prefx x`
    with pytest.raises(CellError, match=r"unknown parameter\(s\): prefx\."):
        kernel.run(START)


def test_a_parameters_cell_with_a_syntax_error_does_not_count(kernel):
    _run_all(kernel)
    with pytest.raises(CellError, match="SyntaxError"):
        kernel.run(_with_prefix("broken") + "\nprefix = (")
    assert "rg-demo-local" in kernel.run(START)  # the last parameters that ran
