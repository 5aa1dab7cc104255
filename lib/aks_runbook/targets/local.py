"""The default target: a real Kubernetes control plane on 127.0.0.1 with kwok-simulated nodes.

kwokctl (`--runtime binary`) runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and the kwok controller as local processes. Its state lives in this checkout's state directory,
so nothing is shared with other kwok clusters on the machine.

Secure by default, for machines shared by several people (docs/local-cluster-security.md):
etcd listens only on unix sockets in owner-only directories (no TCP port), the API server
answers anonymous requests only on its health and version paths and caps token lifetimes, the
components' /metrics ask for credentials, the kwok controller's server asks for the API
server's client certificate, `kubectl exec` runs in a bubblewrap sandbox with limits, and the
state is owner-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import psutil
import yaml

from aks_runbook import paths
from aks_runbook.cluster.kube import Client, client_for
from aks_runbook.cluster.objects import SAFE_LOADER
from aks_runbook.progress import bar, ticking
from aks_runbook.targets import binaries, exec_seccomp
from aks_runbook.targets.nodepools import DEFAULT_POOLS, PoolShape, node_manifests

CLUSTER_NAME = "aks-runbook"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
              "kwok-controller")
SERVICE_CIDR = "10.0.0.0/16"  # AKS's default service CIDR
POD_CIDR = "10.244.0.0/16"  # AKS's default pod CIDR; must not overlap the service CIDR
EXEC_TIME_LIMIT = 30  # seconds a `kubectl exec` (or port-forward connection) may run
# What one exec may use (prlimit: this machine's cgroups are not delegated to the user)
EXEC_MEMORY = 256 * 2**20  # address space of each process, bytes: the pods' default limit
EXEC_PROCESSES = 128  # processes of the sandbox user at once, all sandboxes together
EXEC_CPU_SECONDS = 5  # CPU time of each process (SIGXCPU, then SIGKILL 2 s later)
EXEC_FILE_SIZE = 64 * 2**20  # largest file, and the size of the sandbox's /tmp
EXEC_OPEN_FILES = 256
EXEC_CONCURRENT = 4  # execs at once per namespace (kwok refuses more)
# Health and version only: everything else without credentials gets 401
ANONYMOUS_PATHS = ("/livez", "/readyz", "/healthz", "/version")
# No service-account token lives longer, whatever it asks for (training's longest --expiry)
MAX_TOKEN_SECONDS = 24 * 3600
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes, the last one a NUL
# The long-lived control plane collects garbage a third as often as Go's default (GOGC=100):
# collection took about a seventh of the API server's CPU. Ten training attendees' runs: 5.6
# core-seconds less; the API server holds 490 MB after `make run` instead of 320 (bench/README).
CONTROL_PLANE_GOGC = {"name": "GOGC", "value": "300"}
# what kwokctl and its components may see of the caller's environment
KEPT_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR")


class LocalClusterError(RuntimeError):
    """Something the user can act on went wrong with the local cluster."""


@dataclass
class Status:
    exists: bool
    processes: dict[str, int | None] = field(default_factory=dict)  # component -> pid if alive
    server: str | None = None
    kubeconfig: Path | None = None
    healthy: bool = False
    nodes: dict[str, list[str]] = field(default_factory=dict)  # pool -> node names
    exec_confined: bool = False  # `kubectl exec` runs in the bubblewrap sandbox

    @property
    def running(self) -> bool:
        return self.exists and all(self.processes.get(c) for c in COMPONENTS)

    def describe(self) -> str:
        if not self.exists:
            return "local cluster: not created (run `aks-runbook local up`)"
        lines = [f"local cluster {CLUSTER_NAME!r}: "
                 + ("running" if self.running and self.healthy else "NOT healthy")]
        for name in COMPONENTS:
            pid = self.processes.get(name)
            lines.append(f"  {name:<24} {'pid ' + str(pid) if pid else 'not running'}")
        lines.append(f"  API server   {self.server or 'unknown'}")
        lines.append(f"  kubeconfig   {self.kubeconfig}")
        lines.append("  kubectl exec " + (
            f"confined (bubblewrap: no network, read-only /usr, {EXEC_TIME_LIMIT} s limit, "
            f"{EXEC_MEMORY // 2**20} MiB, {EXEC_CPU_SECONDS} s CPU, "
            f"{EXEC_CONCURRENT} at once per namespace)"
            if self.exec_confined else "NOT confined: runs on this machine as user nobody"))
        for pool, names in sorted(self.nodes.items()):
            lines.append(f"  pool {pool:<8} {len(names)} node(s): {', '.join(names)}")
        return "\n".join(lines)


class LocalCluster:
    def __init__(self, state: Path | None = None, name: str = CLUSTER_NAME):
        self.state = state or paths.state_dir() / "local"
        self.name = name
        self.workdir = self.state / "kwok"
        self.cluster_dir = self.workdir / "clusters" / name
        self.kubeconfig = self.state / "kubeconfig"
        self.etcd_socket = _etcd_socket_dir(self.state) / "etcd.sock"
        self.authentication_config = self.state / "authentication.yaml"
        self.seccomp_filter = self.state / "exec-seccomp.bpf"
        self._clients: dict[tuple[bytes, int | None], Client] = {}

    @property
    def exec_confined(self) -> bool:
        """Whether the cluster's `kubectl exec` runs sandboxed (training refuses otherwise)."""
        try:
            docs = list(yaml.load_all((self.state / "kwokctl.yaml").read_text(),
                                      Loader=SAFE_LOADER))
        except (OSError, yaml.YAMLError):
            return False
        for patch in docs[0].get("componentsPatches", []) if docs else []:
            if patch.get("name") == "kwok-controller":
                return any(e.get("name") == SANDBOX_ENV for e in patch.get("extraEnvs", []))
        return False

    # ---- verbs ------------------------------------------------------------------------------

    def up(self, pools: tuple[PoolShape, ...] = DEFAULT_POOLS, region: str = "japaneast",
           timeout: float = 120) -> Status:
        """Create the cluster, or recover it, or do nothing if it is already healthy."""
        bins = binaries.resolve()
        self.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        config = self.state / "kwokctl.yaml"
        _write_private(self.authentication_config, authentication_config())
        sandbox = exec_sandbox(bins["kwok"], self.seccomp_filter)
        if sandbox is None:
            print(f"local cluster: WARNING: `kubectl exec` will NOT be confined: "
                  f"{why_not_confined(bins['kwok'])}", file=sys.stderr)
        wanted = yaml.safe_dump_all(self._kwokctl_config(bins, sandbox)
                                    + _simulated_containers(sandbox is not None))
        if self._config_written() and config.is_file() and config.read_text() != wanted:
            print("local cluster: its configuration changed (new binaries or settings), "
                  "recreating it", file=sys.stderr)
            self.down()
            self.state.mkdir(parents=True, exist_ok=True)
        if self._config_written():
            current = self.status()
            if not (current.running and current.healthy):
                self._recover(wanted, timeout)
        else:
            self._force_remove()
            self._create(wanted, timeout)
        self._write_kubeconfig()
        self._ensure_nodes(pools, region, timeout)
        return self.status()

    def down(self) -> None:
        """Stop every process the cluster started and remove its state."""
        if self._config_written():
            self._kwokctl("delete", "cluster", check=False, timeout=120)
        self._force_remove()

    def status(self) -> Status:
        if not self._config_written():
            return Status(exists=False)
        status = Status(exists=True, kubeconfig=self.kubeconfig,
                        exec_confined=self.exec_confined)
        status.processes = {c: self._alive_pid(c) for c in COMPONENTS}
        if self.kubeconfig.is_file():
            status.server = _server_of(self.kubeconfig)
            status.healthy = self._api_ready()
            if status.healthy:
                status.nodes = self._nodes_by_pool()
        return status

    # ---- lifecycle steps ----------------------------------------------------------------------

    def _create(self, config_text: str, timeout: float) -> None:
        config = self.state / "kwokctl.yaml"
        _write_private(config, config_text)
        _private_dir(self.etcd_socket.parent)
        with _port_picking():
            self._kwokctl("create", "cluster", "--config", str(config), "--kubeconfig", "",
                          "--wait", f"{int(timeout)}s", timeout=timeout + 60,
                          progress="starting control plane")

    def _recover(self, config_text: str, timeout: float) -> None:
        """Restart the components that died; if that fails, rebuild the cluster from scratch."""
        print("local cluster is not healthy: restarting its stopped components", file=sys.stderr)
        for component in COMPONENTS:
            if not self._alive_pid(component):
                # kwokctl trusts any pid that still exists; a killed component whose parent
                # is an init that does not reap (containers, sandboxes) stays as a zombie.
                (self.cluster_dir / "pids" / f"{component}.pid").unlink(missing_ok=True)
        _private_dir(self.etcd_socket.parent)
        with _port_picking():
            started = self._kwokctl("start", "cluster", check=False, timeout=timeout,
                                    progress="restarting control plane")
            self._write_kubeconfig()
            if started.returncode == 0 and self._wait_api(timeout=60):
                return
        print("restart failed: recreating the local cluster", file=sys.stderr)
        self.down()
        self.state.mkdir(parents=True, exist_ok=True)
        self._create(config_text, timeout)

    def _force_remove(self) -> None:
        """Kill anything still running from our workdir (e.g. after kwokctl was killed)."""
        for proc in self._our_processes():
            proc.terminate()
        gone, alive = psutil.wait_procs(self._our_processes(), timeout=10)
        for proc in alive:
            proc.kill()
        psutil.wait_procs(alive, timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.etcd_socket.parent, ignore_errors=True)
        self.kubeconfig.unlink(missing_ok=True)
        (self.state / "kwokctl.yaml").unlink(missing_ok=True)

    def _write_kubeconfig(self) -> None:
        result = self._kwokctl("get", "kubeconfig", timeout=60)
        _write_private(self.kubeconfig, result.stdout)

    def _ensure_nodes(self, pools: tuple[PoolShape, ...], region: str, timeout: float) -> None:
        core = self.api().CoreV1Api()
        wanted = node_manifests(pools, kubelet_version=binaries.kubernetes_version(),
                                region=region)
        existing = {n.metadata.name: n for n in core.list_node(label_selector="type=kwok").items}
        for node in wanted:
            name = node["metadata"]["name"]
            if name not in existing:
                core.create_node(node)
            elif existing[name].metadata.labels != node["metadata"]["labels"]:
                core.patch_node(name, {"metadata": {"labels": node["metadata"]["labels"]},
                                       "spec": {"taints": node["spec"]["taints"]}})
        for name in set(existing) - {n["metadata"]["name"] for n in wanted}:
            core.delete_node(name)
        self._wait_nodes_ready([n["metadata"]["name"] for n in wanted], timeout)

    def _wait_nodes_ready(self, names: list[str], timeout: float) -> None:
        core = self.api().CoreV1Api()
        deadline = time.monotonic() + timeout
        progress = bar(total=len(names), desc="nodes Ready", unit=" node", file=sys.stderr,
                       leave=False)
        with ticking(progress):
            while True:
                ready = {n.metadata.name for n in core.list_node(label_selector="type=kwok").items
                         if _is_ready(n)}
                progress.update(len(ready & set(names)) - progress.n)
                if set(names) <= ready:
                    break
                if time.monotonic() > deadline:
                    progress.close()
                    raise LocalClusterError(
                        f"nodes not Ready after {timeout:.0f} s: {sorted(set(names) - ready)}. "
                        f"Is the kwok controller running? See `aks-runbook local status` and "
                        f"the logs in {self.cluster_dir / 'logs'}."
                    )
                time.sleep(0.5)
        progress.close()

    def _kwokctl_config(self, bins: dict[str, Path], sandbox: list[str] | None) -> list[dict]:
        group = "config.kwok.x-k8s.io/v1alpha1"
        service_range = {"key": "service-cluster-ip-range", "value": SERVICE_CIDR}
        pki = self.cluster_dir / "pki"  # kwokctl's CA and admin certificate
        client = f"unix://{self.etcd_socket}"
        peer = "unix://etcd-peer.sock:0"  # etcd wants host:port; relative to its cwd (0700)
        etcd = [("listen-client-urls", client), ("advertise-client-urls", "unix://etcd.sock:0"),
                ("listen-peer-urls", peer), ("initial-advertise-peer-urls", peer),
                ("initial-cluster", f"node0={peer}")]
        # /metrics of these two then asks for credentials (kwokctl lets anyone read it)
        health_only = {"key": "authorization-always-allow-paths",
                       "value": "/healthz,/readyz,/livez", "override": True}
        # One of each, so no leader election: renewing its lease every 2 s (a write to etcd
        # each time) was a third of an idle cluster's CPU
        single = {"key": "leader-elect", "value": "false"}
        kwok_envs = []
        if binaries.kwok_is_patched(bins["kwok"]):
            kwok_envs.append({"name": CLIENT_CA_ENV, "value": str(pki / "ca.crt")})
        if sandbox:
            kwok_envs.append({"name": SANDBOX_ENV, "value": json.dumps(sandbox)})
            kwok_envs.append({"name": EXEC_CONCURRENT_ENV, "value": str(EXEC_CONCURRENT)})
        return [
            {
                "apiVersion": group,
                "kind": "KwokctlConfiguration",
                "options": {
                    "runtime": "binary",
                    "bindAddress": "127.0.0.1",
                    "kubeApiserverBinary": str(bins["kube-apiserver"]),
                    "kubeControllerManagerBinary": str(bins["kube-controller-manager"]),
                    "kubeSchedulerBinary": str(bins["kube-scheduler"]),
                    "kwokControllerBinary": str(bins["kwok"]),
                    "etcdBinary": str(bins["etcd"]),
                    "kubectlBinary": str(binaries.kubectl()),
                    "quietPull": True,
                },
                "componentsPatches": [
                    {"name": "etcd", "extraArgs": [
                        {"key": k, "value": v, "override": True} for k, v in etcd],
                     "extraEnvs": [CONTROL_PLANE_GOGC]},
                    {"name": "kube-apiserver", "extraArgs": [
                        service_range,
                        {"key": "etcd-servers", "value": client, "override": True},
                        # the kwok controller's server (exec, logs) asks for this certificate
                        {"key": "kubelet-client-certificate", "value": str(pki / "admin.crt")},
                        {"key": "kubelet-client-key", "value": str(pki / "admin.key")},
                        # anonymous requests: only the health and version paths
                        {"key": "authentication-config",
                         "value": str(self.authentication_config)},
                        # TokenRequest shortens longer asks to this; the 1-year extension
                        # of pod-bound tokens would get around it
                        {"key": "service-account-max-token-expiration",
                         "value": f"{MAX_TOKEN_SECONDS}s"},
                        {"key": "service-account-extend-token-expiration", "value": "false"}],
                     "extraEnvs": [CONTROL_PLANE_GOGC]},
                    {"name": "kube-controller-manager", "extraArgs": [
                        service_range, health_only, single], "extraEnvs": [CONTROL_PLANE_GOGC]},
                    {"name": "kube-scheduler", "extraArgs": [health_only, single]},
                    # A KwokConfiguration document would replace kwok's defaults wholesale.
                    {"name": "kwok-controller",
                     "extraArgs": [{"key": "cidr", "value": POD_CIDR}],
                     **({"extraEnvs": kwok_envs} if kwok_envs else {})},
                ],
            },
        ]

    # ---- helpers --------------------------------------------------------------------------------

    def api(self, retries: int | None = None) -> Client:
        """The real kubernetes client, bound to this cluster's kubeconfig: one per kubeconfig
        and retry setting (a recreated cluster writes another kubeconfig, and gets another)."""
        try:
            key = (self.kubeconfig.read_bytes(), retries)
        except OSError:
            return client_for(self.kubeconfig, retries=retries)  # its error names the file
        if key not in self._clients:
            self._clients[key] = client_for(self.kubeconfig, retries=retries)
        return self._clients[key]

    def _config_written(self) -> bool:
        return (self.cluster_dir / "kwok.yaml").is_file()

    def _alive_pid(self, component: str) -> int | None:
        pid_file = self.cluster_dir / "pids" / f"{component}.pid"
        try:
            pid = int(pid_file.read_text().strip())
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE and str(self.cluster_dir) in " ".join(
                    proc.cmdline()):
                return pid
        except (OSError, ValueError, psutil.Error):
            pass
        return None

    def _our_processes(self) -> list[psutil.Process]:
        mine = str(self.workdir)
        found = []
        for proc in psutil.process_iter(["cmdline", "cwd"]):
            try:
                cmdline = " ".join(proc.info["cmdline"] or [])
                if proc.pid != os.getpid() and (mine in cmdline or
                                                (proc.info["cwd"] or "").startswith(mine)):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    def _api_ready(self) -> bool:
        try:
            # a health probe answers now or not at all: no retries
            self.api(retries=0).api_client.call_api("/readyz", "GET", auth_settings=["BearerToken"],
                            _preload_content=False, _request_timeout=3)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    def _wait_api(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._api_ready():
                return True
            time.sleep(0.5)
        return False

    def _nodes_by_pool(self) -> dict[str, list[str]]:
        pools: dict[str, list[str]] = {}
        for node in self.api().CoreV1Api().list_node().items:
            pool = (node.metadata.labels or {}).get("agentpool", "(none)")
            pools.setdefault(pool, []).append(node.metadata.name)
        return {pool: sorted(names) for pool, names in pools.items()}

    def _kwokctl(self, *args: str, check: bool = True, timeout: float = 120,
                 progress: str | None = None) -> subprocess.CompletedProcess:
        bins = binaries.resolve(build=False)
        # the components inherit this environment: keep the caller's secrets out of it
        env = {k: v for k, v in os.environ.items()
               if k in KEPT_ENVIRONMENT or k.startswith("KWOK_")}
        env["KWOK_WORKDIR"] = str(self.workdir)
        env["PATH"] = f"{binaries.kubectl().parent}{os.pathsep}{env.get('PATH', '')}"
        cmd = [str(bins["kwokctl"]), "--name", self.name, *args]
        if progress:
            with ticking(bar(desc=progress, bar_format="{desc}: {elapsed}", file=sys.stderr,
                             leave=False)) as shown:
                result = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                        timeout=timeout, umask=0o077)
                shown.close()
        else:
            result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                                    umask=0o077)  # everything kwokctl writes is owner-only
        if check and result.returncode != 0:
            raise LocalClusterError(
                f"kwokctl {' '.join(args[:2])} failed (exit {result.returncode}):\n"
                f"{result.stderr.strip()[-2000:]}\nLogs: {self.cluster_dir / 'logs'}"
            )
        return result


@contextlib.contextmanager
def _port_picking():
    """One cluster start at a time on this machine, until its components listen.

    kwokctl picks a port by counting down from 32767 to the first one nothing listens on, in
    each process afresh: two clusters starting at once (a test session beside `make run`, two
    test workers) pick the same ports and one of them never becomes ready.
    """
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    with open(paths.cache_dir() / "cluster-start.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another local cluster is starting on this machine; waiting for it",
                  file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


SANDBOX_ENV = "AKS_RUNBOOK_EXEC_SANDBOX"  # read by our patched kwok (tools/kwok/overlay/)
CLIENT_CA_ENV = "AKS_RUNBOOK_KWOK_CLIENT_CA"
EXEC_CONCURRENT_ENV = "AKS_RUNBOOK_EXEC_CONCURRENT"


def exec_sandbox(kwok: Path, seccomp_filter: Path) -> list[str] | None:
    """The command prefix that confines what kwok runs on this machine, if it can be confined.

    bubblewrap gives the command new namespaces (no network but its own loopback, its own
    processes), a read-only /usr and nothing else of the file system, no capabilities, no
    further user namespaces, a seccomp filter (exec_seccomp.py), and an empty environment plus
    the container's variables (kwok appends them to `env -i`). Outside the sandbox, where the
    command cannot undo them: timeout (wall clock), prlimit (memory, processes, CPU time, file
    size) and, when the cluster runs as root, setpriv to a uid of its own (sandbox_uid()).
    """
    if not binaries.kwok_is_patched(kwok):
        return None
    try:
        exec_seccomp.write_filter(seccomp_filter)
    except exec_seccomp.SeccompUnavailable:
        return None
    prefix = _sandbox_prefix(seccomp_filter)
    if prefix is None or _sandbox_fails(prefix):
        return None
    return prefix


def sandbox_uid() -> int:
    """A uid no account of this machine has (the highest free one below 65000), so no process
    of the machine shares the sandboxes' user: not even nobody's can signal or trace them."""
    for uid in range(64999, 64000, -1):
        if uid_free(uid):
            return uid
    raise LocalClusterError("no free uid between 64001 and 64999 for the exec sandbox")


def uid_free(uid: int) -> bool:
    """No account and no group of this machine has that number."""
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(uid)
            return False
        except KeyError:
            pass
    return True


def _sandbox_prefix(seccomp_filter: Path) -> list[str] | None:
    tools = {name: shutil.which(name) for name in ("bwrap", "timeout", "prlimit", "setpriv")}
    if not all(tools.values()):
        return None
    system = []
    for top in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            system += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            system += ["--ro-bind", str(path), str(path)]
    limits = [tools["prlimit"], f"--as={EXEC_MEMORY}", f"--nproc={EXEC_PROCESSES}",
              f"--cpu={EXEC_CPU_SECONDS}:{EXEC_CPU_SECONDS + 2}", "--core=0",
              f"--nofile={EXEC_OPEN_FILES}", f"--fsize={EXEC_FILE_SIZE}", "--"]
    # the filter is opened on fd 3 before the uid changes (it stays owner-only)
    with_filter = ["/bin/sh", "-c", 'exec "$@" 3<"$0"', str(seccomp_filter)]
    uid = sandbox_uid()
    as_sandbox_user = [tools["setpriv"], f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                       "--"] if os.getuid() == 0 else []
    return [tools["timeout"], "--kill-after=5", str(EXEC_TIME_LIMIT), *limits, *with_filter,
            *as_sandbox_user, "/usr/bin/env", "-i",  # bwrap's own environment: empty too
            tools["bwrap"], "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
            "--seccomp", "3", "--ro-bind", "/usr", "/usr", *system, "--proc", "/proc",
            "--dev", "/dev", "--size", str(EXEC_FILE_SIZE), "--tmpfs", "/tmp", "--chdir", "/tmp",
            "--", "/usr/bin/env", "-i", "PATH=/usr/bin:/bin"]


def _sandbox_fails(prefix: list[str]) -> str | None:
    """Why the sandbox cannot start here (e.g. no user namespaces), or None if it can."""
    try:
        result = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=20,
                                cwd="/")
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    return None if result.returncode == 0 else (result.stderr.strip()[-300:]
                                                or f"exit status {result.returncode}")


def why_not_confined(kwok: Path) -> str:
    if not binaries.kwok_is_patched(kwok):
        return (f"{kwok} is not aks-runbook's patched kwok build; unset "
                f"KWOK_CONTROLLER_BINARY so that `aks-runbook local up` builds it")
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (sudo apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory() as scratch:
        seccomp_filter = Path(scratch) / "filter.bpf"
        try:
            exec_seccomp.write_filter(seccomp_filter)
        except exec_seccomp.SeccompUnavailable as error:
            return f"no seccomp filter: {error}"
        prefix = _sandbox_prefix(seccomp_filter)
        if prefix is None:
            return "timeout, prlimit or setpriv (coreutils, util-linux) is not on PATH"
        return f"bubblewrap cannot start a sandbox here: {_sandbox_fails(prefix)}"


def authentication_config() -> str:
    """The API server's AuthenticationConfiguration: anonymous requests only for the health
    and version paths (kwokctl and the health probes use them); anything else is 401."""
    return yaml.safe_dump({
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthenticationConfiguration",
        "anonymous": {"enabled": True,
                      "conditions": [{"path": path} for path in ANONYMOUS_PATHS]}},
        sort_keys=False)


def _etcd_socket_dir(state: Path) -> Path:
    """An owner-only directory for etcd's client socket, short enough for a socket path."""
    inside = state / "etcd"
    if len(str(inside / "etcd.sock").encode()) <= SOCKET_PATH_MAX:
        return inside
    digest = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"aks-runbook-{os.getuid()}-{digest}"


def _private_dir(path: Path) -> None:
    """Create an owner-only directory, refusing one that someone else made or can enter."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if path.is_symlink() or info.st_uid != os.getuid():
        raise LocalClusterError(f"{path} is not a directory of yours: remove it and retry")
    os.chmod(path, 0o700)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


NOBODY = 65534


def _simulated_containers(confined: bool) -> list[dict]:
    """kwok's stand-ins for container logs and exec, for the workshop's voting app.

    `kubectl logs` returns a recorded log file; `kubectl exec` runs the command on this machine
    in the sandbox (exec_sandbox: as sandbox_uid() when the cluster runs as root), with the
    container's environment variables; `kubectl port-forward` gets the app's page (through the
    same sandbox, as the same uid). Unconfined, exec runs as nobody.
    """
    group = "kwok.x-k8s.io/v1alpha1"
    logs_dir = Path(str(resources.files("aks_runbook.manifests") / "pod-logs"))
    # Every namespace (the chapters' own and each training attendee's): what runs is confined.
    selector: dict = {}
    # the sandbox changes the uid itself, for exec and port-forward alike
    unconfined_user = {} if confined else {
        "securityContext": {"runAsUser": NOBODY, "runAsGroup": NOBODY}}
    return [
        {"apiVersion": group, "kind": "ClusterLogs", "metadata": {"name": "azure-vote"},
         "spec": {"selector": selector, "logs": [
             {"containers": [name], "logsFile": str(logs_dir / f"{name}.log")}
             for name in ("azure-vote-front", "azure-vote-back")]}},
        {"apiVersion": group, "kind": "ClusterExec", "metadata": {"name": "azure-vote"},
         "spec": {"selector": selector, "execs": [
             {"containers": ["azure-vote-front"],
              # Runs on this machine: never as the user running the cluster
              "local": {"workDir": "/tmp", **unconfined_user,
                        "envs": [{"name": "REDIS", "value": "azure-vote-back"},
                                 {"name": "PATH", "value": "/usr/bin:/bin"}]}}]}},
        {"apiVersion": group, "kind": "ClusterPortForward", "metadata": {"name": "azure-vote"},
         "spec": {"selector": selector, "forwards": [
             {"ports": [80], "command": ["sh", "-c", VOTE_PAGE_RESPONSE]}]}},
    ]


# What the front end's port 80 answers through `kubectl port-forward` (kwok pipes the
# connection to this command): the voting app's page, served from this machine.
_VOTE_PAGE = ("<!DOCTYPE html><html><head><title>Azure Voting App</title></head><body>"
              "<h1>Azure Voting App</h1><form><button>Cats</button><button>Dogs</button>"
              "</form></body></html>")
VOTE_PAGE_RESPONSE = (
    "printf 'HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\n"
    f"Content-Length: {len(_VOTE_PAGE)}\\r\\nConnection: close\\r\\n\\r\\n%s' '{_VOTE_PAGE}'"
)


def _server_of(kubeconfig: Path) -> str | None:
    try:
        config = yaml.load(kubeconfig.read_text(), Loader=SAFE_LOADER)
        return config["clusters"][0]["cluster"]["server"]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return None


def _is_ready(node) -> bool:
    """Ready, and the node controller has lifted its not-ready taint so pods can land."""
    ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
    startup_taints = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
    return ready and not any(t.key in startup_taints for t in node.spec.taints or [])
