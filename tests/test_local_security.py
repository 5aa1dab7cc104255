"""The local cluster is secure by default on a machine shared by several people.

Every way in that the issue names is tried, and must be refused: etcd over TCP or through its
socket as another user, the components' endpoints without credentials, and from inside a
`kubectl exec`: the control plane's ports, etcd's socket, files outside the sandbox, running
past the time limit. Each refusal is paired with a control showing the same probe succeeds
where it should, so a probe that could never succeed does not pass for a refusal.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from aks_runbook.targets import binaries, local
from aks_runbook.targets.local import (
    ANONYMOUS_PATHS,
    EXEC_CONCURRENT,
    EXEC_CPU_SECONDS,
    EXEC_PROCESSES,
    EXEC_TIME_LIMIT,
    MAX_TOKEN_SECONDS,
    SOCKET_PATH_MAX,
    LocalCluster,
    _etcd_socket_dir,
    sandbox_uid,
    why_not_confined,
)

NOBODY = 65534
NAMESPACE = "azure-vote"  # the namespace the cluster's ClusterExec rule serves
# what an attacker would ask each port for: secrets, etcd's keys, metrics, kwok's debug routes
STATE_PATHS = ("/api/v1/secrets", "/v3/kv/range", "/metrics", "/configz", "/debug/pprof/",
               "/containerLogs/azure-vote/p/c", "/exec/azure-vote/p/c?command=id",
               "/discovery/prometheus")

# the probes skip verification on purpose: they play an attacker, not a client
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


# the port-forward responder of this module's cluster also says which uid runs it
UID_RESPONSE = local.VOTE_PAGE_RESPONSE.replace(
    "Connection: close\\r\\n", "Connection: close\\r\\nX-Uid: '\"$(id -u)\"'\\r\\n")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A cluster of this module's own, with the voting app's front end to exec into."""
    cluster = LocalCluster(state=tmp_path_factory.mktemp("security") / "local")
    assert UID_RESPONSE != local.VOTE_PAGE_RESPONSE
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local, "VOTE_PAGE_RESPONSE", UID_RESPONSE)
        status = cluster.up()
    assert status.running and status.healthy, status.describe()
    core, apps = cluster.api().CoreV1Api(), cluster.api().AppsV1Api()
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    labels = {"app": "azure-vote-front"}
    apps.create_namespaced_deployment(NAMESPACE, {
        "metadata": {"name": "azure-vote-front"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "azure-vote-front",
                      "image": "mcr.microsoft.com/azuredocs/azure-vote-front:v1"}]}}}})
    kubectl(cluster, "rollout", "status", "deployment/azure-vote-front", "--timeout=90s")
    yield cluster
    cluster.down()


def kubectl(cluster, *args, timeout=120) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binaries.kubectl()), "--kubeconfig", str(cluster.kubeconfig),
                             "-n", NAMESPACE, *args], capture_output=True, text=True,
                            timeout=timeout)
    return result


def exec_in_front(cluster, *command, timeout=120) -> subprocess.CompletedProcess:
    """`kubectl exec` through the API server, as an attendee would."""
    return kubectl(cluster, "exec", "deployment/azure-vote-front", "-c", "azure-vote-front",
                   "--", *command, timeout=timeout)


def pid_of(cluster, component) -> int:
    pid = cluster.status().processes[component]
    assert pid, f"{component} is not running"
    return pid


def tcp_ports(pid) -> set[int]:
    return {c.laddr.port for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


def unix_listeners(pid) -> set[str]:
    return {c.laddr for c in psutil.Process(pid).net_connections(kind="unix")
            if c.status == psutil.CONN_NONE and c.laddr}


def kwokctl_options(cluster) -> dict:
    documents = yaml.safe_load_all((cluster.cluster_dir / "kwok.yaml").read_text())
    return next(d for d in documents if d["kind"] == "KwokctlConfiguration")["options"]


def get(url, **kwargs):
    """The HTTP status, or the name of the error that refused the request."""
    try:
        return requests.get(url, verify=False, timeout=5, **kwargs).status_code
    except requests.exceptions.SSLError:
        return "TLS refused"
    except requests.exceptions.ConnectionError:
        return "connection refused"


def as_nobody(probe) -> int:
    """Run probe() in a child process as uid/gid nobody; its exit status (0: it succeeded)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            probe()
            code = 0
        except PermissionError:
            code = 1
        except OSError:
            code = 2
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def etcd_version_over(sock_path: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(sock_path)
        sock.sendall(b"GET /version HTTP/1.0\r\nHost: etcd\r\n\r\n")
        return sock.recv(4096)


# ---- etcd ----------------------------------------------------------------------------------


@pytest.mark.cluster  # a cluster of its own
def test_etcd_listens_on_no_tcp_port_at_all(cluster):
    etcd = pid_of(cluster, "etcd")
    assert tcp_ports(etcd) == set(), "etcd must not listen on any TCP port"
    assert str(cluster.etcd_socket) in unix_listeners(etcd)
    # the port kwokctl picked for it (where `curl .../v3/kv/range` used to list every key);
    # being free, another cluster on the machine may have taken it since
    old_port = kwokctl_options(cluster)["etcdPort"]
    holders = {c.pid for c in psutil.net_connections(kind="inet")
               if c.status == psutil.CONN_LISTEN and c.laddr.port == old_port}
    assert not holders & {p.pid for p in cluster._our_processes()}
    if not holders:
        assert get(f"http://127.0.0.1:{old_port}/v3/kv/range") == "connection refused"


@pytest.mark.cluster  # a cluster of its own
def test_etcd_socket_refuses_another_user(cluster):
    path = str(cluster.etcd_socket)
    assert b'"etcdserver"' in etcd_version_over(path), "control: the owner reaches etcd"
    for directory in (cluster.etcd_socket.parent, cluster.cluster_dir):  # client and peer
        info = directory.stat()
        assert info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700, directory
    if os.getuid() != 0:
        return  # only root can become nobody; the 0700 directories above are the guarantee
    assert as_nobody(lambda: etcd_version_over(path)) == 1, "nobody must get EACCES"
    peer = str(cluster.cluster_dir / "etcd-peer.sock:0")
    assert peer.rsplit("/", 1)[-1] in {Path(p).name for p in unix_listeners(
        pid_of(cluster, "etcd"))}
    assert as_nobody(lambda: etcd_version_over(peer)) == 1


# ---- the other components' TCP ports ------------------------------------------------------


@pytest.mark.cluster  # a cluster of its own
def test_no_tcp_port_serves_cluster_state_without_credentials(cluster):
    ports = {name: tcp_ports(pid_of(cluster, name)) for name in
             ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller")}
    assert all(ports.values()), ports
    answered = {}
    for name, found in ports.items():
        for port in found:
            for scheme in ("https", "http"):
                for path in STATE_PATHS:
                    answered[f"{name} {scheme}://127.0.0.1:{port}{path}"] = get(
                        f"{scheme}://127.0.0.1:{port}{path}")
    # 400: an HTTP request to an HTTPS-only port; 401/403: credentials asked for; or no TLS
    # handshake without a client certificate (kwok)
    served = {url: code for url, code in answered.items()
              if code not in (400, 401, 403, "TLS refused")}
    assert served == {}, f"served without credentials: {served}"


@pytest.mark.cluster  # a cluster of its own
def test_metrics_ask_for_credentials_and_answer_the_admin(cluster):
    options = kwokctl_options(cluster)
    pki = cluster.cluster_dir / "pki"
    admin = (str(pki / "admin.crt"), str(pki / "admin.key"))
    for port_key in ("kubeControllerManagerPort", "kubeSchedulerPort"):
        url = f"https://127.0.0.1:{options[port_key]}/metrics"
        assert get(url) in (401, 403), url
        assert get(f"https://127.0.0.1:{options[port_key]}/healthz") == 200  # health stays open
    kwok = f"127.0.0.1:{options['kwokControllerPort']}"
    assert get(f"https://{kwok}/metrics") == "TLS refused"
    assert get(f"http://{kwok}/metrics") == 401
    assert get(f"https://{kwok}/metrics", cert=admin) == 200, "control: the CA's client cert"


@pytest.mark.cluster  # a cluster of its own
def test_kwok_server_refuses_a_certificate_from_another_ca(cluster, tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=kwok-admin/O=system:masters", "-keyout", str(key),
                    "-out", str(crt)], check=True, capture_output=True)
    port = kwokctl_options(cluster)["kwokControllerPort"]
    assert get(f"https://127.0.0.1:{port}/metrics", cert=(str(crt), str(key))) == "TLS refused"


# ---- kubectl exec ---------------------------------------------------------------------------


@pytest.mark.cluster  # a cluster of its own
def test_exec_still_prints_the_containers_variable(cluster):
    result = exec_in_front(cluster, "printenv", "REDIS")
    assert (result.returncode, result.stdout) == (0, "azure-vote-back\n"), result.stderr


@pytest.mark.cluster  # a cluster of its own
def test_exec_sees_only_the_containers_environment(cluster):
    result = exec_in_front(cluster, "env")
    assert result.returncode == 0, result.stderr
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert names == {"PATH", "REDIS"}, result.stdout
    # nor kwok's, through the sandbox's first process (bubblewrap's); the control shows the
    # same file of a process of the sandbox that has variables is readable
    result = exec_in_front(cluster, "sh", "-c",
                           "wc -c < /proc/1/environ; tr '\\0' ' ' < /proc/self/environ")
    size, own = result.stdout.split("\n", 1)
    assert (result.returncode, size) == (0, "0"), result.stdout + result.stderr
    assert "REDIS=azure-vote-back" in own
    kwok_environment = Path(f"/proc/{pid_of(cluster, 'kwok-controller')}/environ").read_bytes()
    assert local.SANDBOX_ENV.encode() in kwok_environment, "control: kwok's has variables"


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_reach_the_control_planes_ports(cluster):
    options = kwokctl_options(cluster)
    ports = {"API server": options["kubeApiserverPort"], "kwok": options["kwokControllerPort"],
             "old etcd": options["etcdPort"]}
    with socket.create_connection(("127.0.0.1", ports["API server"]), timeout=5):
        pass  # control: from this machine the API server's port is open
    for name, port in ports.items():
        result = exec_in_front(cluster, "bash", "-c", f"echo > /dev/tcp/127.0.0.1/{port}")
        assert result.returncode != 0, f"{name} port {port} reachable from exec"
        assert "Connection refused" in result.stderr, result.stderr


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_reach_etcds_socket_or_read_the_clusters_files(cluster):
    secrets = [cluster.etcd_socket, cluster.kubeconfig, cluster.cluster_dir / "pki" / "admin.key",
               Path("/etc/passwd")]
    for path in secrets:
        assert path.exists(), f"control: {path} exists on this machine"
        result = exec_in_front(cluster, "cat", str(path))
        assert result.returncode != 0 and result.stdout == "", f"{path} readable from exec"
        assert "No such file or directory" in result.stderr, result.stderr
    result = exec_in_front(cluster, "ls", "/")
    assert set(result.stdout.split()) <= {"bin", "dev", "lib", "lib32", "lib64", "libx32",
                                          "proc", "sbin", "tmp", "usr"}, result.stdout


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_write_outside_its_own_tmp(cluster):
    result = exec_in_front(cluster, "sh", "-c", "echo x > /tmp/ok && touch /usr/pwned")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr, result.stderr
    assert not Path("/usr/pwned").exists()


@pytest.mark.cluster  # a cluster of its own
def test_exec_runs_as_a_uid_of_its_own_and_sees_only_its_own_processes(cluster):
    result = exec_in_front(cluster, "sh", "-c", "id -u; ls /proc | grep -c '^[0-9]'")
    uid, processes = result.stdout.split()
    assert int(processes) < 10, "the control plane's processes must not be visible"
    if os.getuid() != 0:
        return  # the sandbox can change its uid only when the cluster runs as root
    assert uid == str(sandbox_uid()) and int(uid) != NOBODY, result.stdout
    with pytest.raises(KeyError):
        pwd.getpwuid(int(uid))  # no account of the machine has it
    # on the host, the sandbox's processes are that uid too (not nobody's: a process running
    # as nobody cannot signal or trace them)
    sleeper = threading.Thread(target=exec_in_front, args=(cluster, "sleep", "6"))
    sleeper.start()
    try:
        deadline = time.monotonic() + 5
        found = []
        while not found and time.monotonic() < deadline:
            found = [p for p in psutil.process_iter(["cmdline", "uids"])
                     if p.info["cmdline"] == ["sleep", "6"]]
            time.sleep(0.2)
        assert found and {p.info["uids"].real for p in found} == {int(uid)}
    finally:
        sleeper.join()


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_allocate_more_memory_than_the_pods_limit(cluster):
    big = exec_in_front(cluster, "python3", "-c", "b = bytearray(600 * 2**20); print('600 MiB')")
    assert big.returncode != 0 and "600 MiB" not in big.stdout
    assert "MemoryError" in big.stderr, big.stderr
    small = exec_in_front(cluster, "python3", "-c", "b = bytearray(100 * 2**20); print('100')")
    assert (small.returncode, small.stdout) == (0, "100\n"), small.stderr


FORKS = """
import os, time
started = refused = 0
for _ in range(200):
    try:
        pid = os.fork()
    except BlockingIOError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    started += 1
print(started, refused)
"""


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_fork_200_processes(cluster):
    result = exec_in_front(cluster, "python3", "-c", FORKS)
    assert result.returncode == 0, result.stderr
    started, refused = map(int, result.stdout.split())
    assert started + refused == 200
    assert refused > 0 and started < EXEC_PROCESSES, result.stdout
    assert started >= 10, "control: a few processes are fine"


@pytest.mark.cluster  # a cluster of its own
def test_a_busy_loop_is_killed_at_the_cpu_limit(cluster):
    started = time.monotonic()
    result = exec_in_front(cluster, "sh", "-c", "while :; do :; done",
                           timeout=EXEC_TIME_LIMIT + 60)
    elapsed = time.monotonic() - started
    # 152 = 128 + SIGXCPU (the soft limit), 137 = SIGKILL (the hard one); 124 would be the
    # wall-clock limit: only when the machine is so busy that 30 s give less CPU than that
    status = re.search(r"exit status (\d+)", result.stderr)
    assert status and status.group(1) in ("152", "137"), (elapsed, result.stderr)
    assert EXEC_CPU_SECONDS - 1 <= elapsed < EXEC_TIME_LIMIT, elapsed
    quick = exec_in_front(cluster, "sh", "-c", "i=0; while [ $i -lt 1000 ]; do i=$((i+1)); "
                                               "done; echo $i")
    assert (quick.returncode, quick.stdout) == (0, "1000\n"), "control: short work is fine"


@pytest.mark.cluster  # a cluster of its own
def test_only_a_few_execs_run_at_once_in_a_namespace(cluster):
    results: list[subprocess.CompletedProcess] = []
    runs = [threading.Thread(target=lambda: results.append(exec_in_front(cluster, "sleep", "6")))
            for _ in range(EXEC_CONCURRENT + 2)]
    for run in runs:
        run.start()
        time.sleep(0.2)
    for run in runs:
        run.join()
    refused = [r for r in results if r.returncode != 0]
    assert len(results) - len(refused) == EXEC_CONCURRENT, [r.stderr for r in results]
    assert len(refused) == 2
    assert all(f"too many execs at once in namespace {NAMESPACE}: at most {EXEC_CONCURRENT}"
               in r.stderr for r in refused), [r.stderr for r in refused]
    after = exec_in_front(cluster, "true")
    assert after.returncode == 0, "control: a slot is free again once they finished"


@pytest.mark.cluster  # a cluster of its own
def test_killing_the_exec_client_ends_the_sandbox(cluster):
    client = subprocess.Popen(
        [str(binaries.kubectl()), "--kubeconfig", str(cluster.kubeconfig), "-n", NAMESPACE,
         "exec", "deployment/azure-vote-front", "-c", "azure-vote-front", "--", "sleep", "25"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sleepers():
        return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == [
            "sleep", "25"]]
    deadline = time.monotonic() + 10
    while not sleepers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sleepers(), "control: the command runs while the client is there"
    client.kill()
    client.wait()
    killed = time.monotonic()
    while sleepers() and time.monotonic() < killed + 20:
        time.sleep(0.2)
    assert not sleepers(), "the sandbox outlived its client"
    assert time.monotonic() - killed < 5


@pytest.mark.cluster  # a cluster of its own
def test_exec_cannot_make_user_namespaces_or_use_filtered_syscalls(cluster):
    result = exec_in_front(cluster, "unshare", "--user", "true")
    assert result.returncode != 0 and "Operation not permitted" in result.stderr, result.stderr
    probe = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
             "print(libc.syscall({nr}, 0, 0, 0, 0), ctypes.get_errno())")
    # x86-64 numbers: keyctl 250, ptrace 101, bpf 321; getpid 39 is the control
    if os.uname().machine == "x86_64":
        for name, number in (("keyctl", 250), ("ptrace", 101), ("bpf", 321)):
            result = exec_in_front(cluster, "python3", "-c", probe.format(nr=number))
            assert result.stdout.split() == ["-1", "1"], f"{name}: {result.stdout}"  # EPERM
        control = exec_in_front(cluster, "python3", "-c", probe.format(nr=39))
        assert int(control.stdout.split()[0]) > 0, control.stdout


@pytest.mark.cluster  # a cluster of its own
def test_anonymous_requests_reach_only_health_and_version(cluster):
    server = local._server_of(cluster.kubeconfig)
    as_other = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] \
        if os.getuid() == 0 else []

    def status_of(path: str) -> str:
        return subprocess.run([*as_other, "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                               f"{server}{path}"], capture_output=True, text=True,
                              timeout=30).stdout
    for path in ANONYMOUS_PATHS:
        assert status_of(path) == "200", path
    for path in ("/api/v1/namespaces", "/api/v1/secrets", "/api", "/apis", "/openapi/v2",
                 "/metrics", "/readyz/etcd"):
        assert status_of(path) == "401", path
    admin = cluster.api().CoreV1Api().list_namespace()
    assert admin.items, "control: the admin lists namespaces"


def _lifetime(token: str) -> int:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["exp"] - claims["iat"]


@pytest.mark.cluster  # a cluster of its own
def test_the_api_server_shortens_a_ten_year_token(cluster):
    kubectl(cluster, "create", "serviceaccount", "long-lived")
    ten_years = kubectl(cluster, "create", "token", "long-lived", "--duration=87600h")
    assert ten_years.returncode == 0, ten_years.stderr  # shortened, not refused
    assert _lifetime(ten_years.stdout.strip()) == MAX_TOKEN_SECONDS
    assert f"shortened to {MAX_TOKEN_SECONDS} seconds" in ten_years.stderr
    hour = kubectl(cluster, "create", "token", "long-lived", "--duration=1h")
    assert _lifetime(hour.stdout.strip()) == 3600, "control: shorter asks are kept"
    # a token bound to a pod (of the pod's account) asking for 3607 s is what the API server
    # would stretch to a year (--service-account-extend-token-expiration): turned off
    pod = kubectl(cluster, "get", "pod", "-l", "app=azure-vote-front", "-o",
                  "jsonpath={.items[0].metadata.name} {.items[0].metadata.uid}").stdout.split()
    bound = kubectl(cluster, "create", "token", "default", "--bound-object-kind=Pod",
                    f"--bound-object-name={pod[0]}", f"--bound-object-uid={pod[1]}",
                    "--duration=3607s")
    assert bound.returncode == 0, bound.stderr
    assert _lifetime(bound.stdout.strip()) == 3607


@pytest.mark.cluster  # a cluster of its own
def test_exec_is_killed_at_the_time_limit(cluster):
    started = time.monotonic()
    result = exec_in_front(cluster, "sleep", str(EXEC_TIME_LIMIT + 60),
                           timeout=EXEC_TIME_LIMIT + 90)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert EXEC_TIME_LIMIT - 1 <= elapsed < EXEC_TIME_LIMIT + 15, elapsed


@pytest.mark.cluster  # a cluster of its own
def test_port_forward_still_serves_the_vote_page(cluster):
    forward = subprocess.Popen(
        [str(binaries.kubectl()), "--kubeconfig", str(cluster.kubeconfig), "-n", NAMESPACE,
         "port-forward", "deployment/azure-vote-front", ":80"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        port = re.search(r"127\.0\.0\.1:(\d+) ->", line)
        assert port, line + forward.stderr.read() if forward.poll() is not None else line
        page = requests.get(f"http://127.0.0.1:{port.group(1)}/", timeout=10)
        assert "Azure Voting App" in page.text
        if os.getuid() == 0:  # the responder runs in the sandbox, as its uid (not root)
            assert page.headers["X-Uid"] == str(sandbox_uid())
    finally:
        forward.terminate()
        forward.wait(10)


@pytest.mark.cluster  # a cluster of its own
def test_status_reports_exec_confined(cluster):
    status = cluster.status()
    assert status.exec_confined and cluster.exec_confined
    assert "kubectl exec confined (bubblewrap" in status.describe()
    assert f"{EXEC_CONCURRENT} at once per namespace" in status.describe()


# ---- the state on disk ----------------------------------------------------------------------


@pytest.mark.cluster  # a cluster of its own
def test_state_and_certificates_are_owner_only(cluster):
    checked = 0
    for top in (cluster.state, cluster.etcd_socket.parent):
        for root, dirs, files in os.walk(top):
            for entry in [root, *(os.path.join(root, n) for n in dirs + files)]:
                info = os.lstat(entry)
                if stat.S_ISLNK(info.st_mode):
                    continue
                assert info.st_uid == os.getuid(), entry
                assert stat.S_IMODE(info.st_mode) & 0o077 == 0, (
                    f"{entry} is {oct(stat.S_IMODE(info.st_mode))}")
                checked += 1
    pki = cluster.cluster_dir / "pki"
    assert (pki / "admin.key").is_file() and (cluster.cluster_dir / "etcd").is_dir()
    assert checked > 20, "the walk should have seen the pki, etcd data, logs and kubeconfigs"


# ---- without a cluster ----------------------------------------------------------------------


def test_a_long_state_path_moves_etcds_socket_to_a_short_private_directory(tmp_path):
    long_state = tmp_path / ("x" * 120) / "local"
    directory = _etcd_socket_dir(long_state)
    assert len(str(directory / "etcd.sock").encode()) <= SOCKET_PATH_MAX
    assert str(os.getuid()) in directory.name
    assert _etcd_socket_dir(long_state) == directory, "the same state gets the same socket"
    short = _etcd_socket_dir(tmp_path / "local")
    assert short == tmp_path / "local" / "etcd"


def test_without_bubblewrap_the_warning_says_what_to_install(monkeypatch, tmp_path):
    kwok = binaries.resolve()["kwok"]  # built once if the cache has none
    assert binaries.kwok_is_patched(kwok)
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap there
    assert "apt-get install bubblewrap" in why_not_confined(kwok)
    unpatched = tmp_path / "kwok"
    unpatched.write_bytes(b"\x7fELF not our build")
    assert not binaries.kwok_is_patched(unpatched)
    assert "not aks-runbook's patched kwok" in why_not_confined(unpatched)


def test_a_changed_overlay_gets_a_new_build_directory(monkeypatch):
    before = binaries.build_dir("kwok")
    assert before.name.startswith(binaries.pinned_version("kwok") + "+aks-runbook.")
    changed = {**binaries.KWOK_OVERLAY, "pkg/extra.go": [("a", "b")]}
    monkeypatch.setitem(binaries.OVERLAYS, "kwok", changed)
    assert binaries.build_dir("kwok") != before
    assert binaries.build_dir("k8s").name == binaries.pinned_version("k8s")


@pytest.mark.cluster  # a cluster of its own
def test_without_bubblewrap_up_warns_and_exec_still_works(tmp_path, monkeypatch, capsys):
    # this machine's programs, except bubblewrap; unconfined, kwok finds the command on its
    # own PATH, as nobody: the directory must be open to nobody (tmp_path is not)
    bare = Path(tempfile.mkdtemp(prefix="aks-runbook-no-bwrap-"))
    bare.chmod(0o755)
    for program in Path("/usr/bin").iterdir():
        if program.name != "bwrap":
            (bare / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(bare))
    cluster = LocalCluster(state=tmp_path / "local")
    try:
        status = cluster.up()
        assert status.running and status.healthy, status.describe()
        warning = capsys.readouterr().err
        assert "`kubectl exec` will NOT be confined" in warning
        assert "apt-get install bubblewrap" in warning
        assert not status.exec_confined and not cluster.exec_confined
        assert "kubectl exec NOT confined" in status.describe()
        cluster.api().CoreV1Api().create_namespace({"metadata": {"name": NAMESPACE}})
        kubectl(cluster, "create", "deployment", "azure-vote-front",
                "--image=mcr.microsoft.com/azuredocs/azure-vote-front:v1")
        kubectl(cluster, "rollout", "status", "deployment/azure-vote-front", "--timeout=90s")
        result = exec_in_front(cluster, "printenv", "REDIS")
        assert (result.returncode, result.stdout) == (0, "azure-vote-back\n"), result.stderr
    finally:
        cluster.down()
        shutil.rmtree(bare)


def test_kwok_is_patched_from_its_own_sources_or_not_built(monkeypatch, tmp_path):
    go = shutil.which("go")
    assert go, "building kwok needs Go; this machine's cluster was built with it"
    monkeypatch.setenv("AKS_RUNBOOK_CACHE", str(tmp_path))
    env = binaries._go_env()
    patched = binaries._patched_module(go, "kwok", env)
    exec_go = (patched / "src/pkg/utils/exec/cmd_other.go").read_text()
    assert "cmd := aksRunbookCommand(ctx, name, arg...)" in exec_go
    assert "exec.CommandContext(ctx, name, arg...)" not in exec_go
    assert (patched / "src/pkg/utils/exec/aks_runbook_sandbox.go").is_file()
    server_exec = (patched / "src/pkg/kwok/server/debugging_exec.go").read_text()
    assert "aksRunbookExecSlot(podNamespace)" in server_exec
    assert "aksRunbookUntilStreamCloses(ctx, stdout, stderr)" in server_exec
    assert "context.WithCancel(ctx)" not in server_exec
    assert (patched / "src/pkg/kwok/server/aks_runbook_exec_limits.go").is_file()
    assert "replace sigs.k8s.io/kwok => ./src" in (patched / "go.mod").read_text()
    # a pinned version whose source moved on: the build stops, naming what did not match
    moved = {"pkg/utils/exec/cmd_other.go": [("exec.NoSuchCall(ctx)", "aksRunbookCommand()")]}
    monkeypatch.setitem(binaries.OVERLAYS, "kwok", moved)
    with pytest.raises(binaries.MissingBinaries,
                       match=r"expected exactly one `exec.NoSuchCall\(ctx\)` in "
                             r"pkg/utils/exec/cmd_other.go, found 0"):
        binaries._patched_module(go, "kwok", env)
