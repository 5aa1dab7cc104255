"""The environment picker: target, environment file and prefix, checked as they change by
the parameter model itself (the same messages as the parameters cell), with the Azure names
they give. It shows; it does not change the running session (the parameters cell does)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aks_runbook import paths
from aks_runbook.i18n import _
from aks_runbook.notebook.widgets import common
from aks_runbook.params import TARGETS, Environment, ParameterError, load, read_file

CURRENT = "(this notebook's parameters)"


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str  # the parameter model's message when not ok
    names: dict[str, str]  # Azure names when ok

    def text(self) -> str:
        if not self.ok:
            return self.message
        return "valid; Azure names: " + ", ".join(f"{k} {v}" for k, v in self.names.items())


def environment_files(directory: Path | None = None) -> list[str]:
    """The environment files a run can take, relative to the project (environments/*.yaml)."""
    root = paths.project_root()
    directory = directory or root / "environments"
    return [str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
            for p in sorted(directory.glob("*.yaml"))]


def azure_names(env: Environment) -> dict[str, str]:
    return {"resource group": env.rg, "cluster": env.cluster, "registry": env.acr,
            "node resource group": f"MC_{env.rg}_{env.cluster}_{env.location}"}


def check(current: dict[str, Any], env_file: str = CURRENT, target: str | None = None,
          prefix: str | None = None) -> Check:
    """Validate `current` (or an environment file's values) with target and prefix set."""
    try:
        given = dict(current) if env_file == CURRENT else read_file(_resolve(env_file))
        given.update({k: v for k, v in (("target", target), ("prefix", prefix))
                      if v is not None})
        env = load(given)
    except ParameterError as error:
        return Check(False, str(error), {})
    return Check(True, "", azure_names(env))


def _resolve(env_file: str) -> Path:
    path = Path(env_file)
    return path if path.is_absolute() else paths.project_root() / path


def command(env_file: str, target: str, prefix: str) -> str:
    """The run these choices stand for."""
    file = "environments/local.yaml" if env_file == CURRENT else env_file
    return f"aks-runbook run {file} -p target={target} -p prefix={prefix}"


def headless_text(current: dict[str, Any]) -> str:
    """The current parameters' check, then each environment file's."""
    target, prefix = current.get("target", "local"), current.get("prefix", "")
    lines = [f"environment picker: target {target}, prefix {prefix!r} (this notebook's "
             f"parameters): {check(current).text()}"]
    for name in environment_files():
        lines.append(f"{name}: {check(current, name).text()}")
    return "\n".join(lines)


class Picker:
    """Dropdowns for target and environment file, a text box for the prefix, the answer."""

    def __init__(self, current: dict[str, Any]):
        import ipywidgets as w

        self.current = dict(current)
        self.target = w.Dropdown(options=list(TARGETS), value=current.get("target", "local"),
                                 description=_("target"))
        self.env_file = w.Dropdown(options=[CURRENT, *environment_files()], value=CURRENT,
                                   description=_("environment file"),
                                   style={"description_width": "initial"})
        self.prefix = w.Text(value=str(current.get("prefix", "")), description=_("prefix"),
                             continuous_update=True)
        self.answer = common.answer_widget()
        self.env_file.observe(self._file_chosen, names="value")
        for control in (self.target, self.prefix):
            control.observe(self.update, names="value")
        self.widget = w.VBox([w.HBox([self.target, self.env_file, self.prefix]), self.answer])
        self.widget.add_class("aks-environment-picker")
        self.update()

    def _file_chosen(self, _change: Any = None) -> None:
        """A file brings its own target and prefix (then edited from there)."""
        try:
            given = self.current if self.env_file.value == CURRENT else \
                read_file(_resolve(self.env_file.value))
        except ParameterError:
            given = {}
        with self.target.hold_trait_notifications(), self.prefix.hold_trait_notifications():
            if given.get("target") in TARGETS:
                self.target.value = given["target"]
            self.prefix.value = str(given.get("prefix", self.prefix.value))
        self.update()

    def update(self, _change: Any = None) -> None:
        result = check(self.current, self.env_file.value, self.target.value, self.prefix.value)
        text = result.text()
        if result.ok:
            text += "\nto run with these: " + command(self.env_file.value, self.target.value,
                                                      self.prefix.value)
        self.answer.value = common.as_html(text)


def environment_picker(current: dict[str, Any]) -> Picker | None:
    """Show the picker for these parameters (headless: the checks as text)."""
    text = headless_text(current)
    if common.headless():
        common.show_text(text)
        return None
    picker = Picker(current)
    common.show(picker.widget, text)
    return picker
