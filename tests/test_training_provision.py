"""Training provisioning on the session's real cluster: isolation proven with real requests
made with the attendees' own kubeconfigs, idempotence, teardown."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from aks_runbook.cluster.kube import client_for
from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee
from training_access import attendee_client, status_of

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
PEOPLE = [Attendee("alice"), Attendee("bob")]


def _resource_versions(k8s, namespace: str, folder: Path) -> dict[str, str]:
    found = {}
    for attendee_object in provision.objects(Attendee(namespace.removeprefix("training-")),
                                             folder):
        kind, name = attendee_object["kind"], attendee_object["metadata"]["name"]
        found[f"{kind}/{name}"] = _read(k8s, kind, name, namespace).metadata.resource_version
    return found


def _read(k8s, kind: str, name: str, namespace: str):
    core, rbac, net = k8s.CoreV1Api(), k8s.RbacAuthorizationV1Api(), k8s.NetworkingV1Api()
    return {"Namespace": lambda: core.read_namespace(name),
            "ResourceQuota": lambda: core.read_namespaced_resource_quota(name, namespace),
            "LimitRange": lambda: core.read_namespaced_limit_range(name, namespace),
            "NetworkPolicy": lambda: net.read_namespaced_network_policy(name, namespace),
            "ServiceAccount": lambda: core.read_namespaced_service_account(name, namespace),
            "Role": lambda: rbac.read_namespaced_role(name, namespace),
            "RoleBinding": lambda: rbac.read_namespaced_role_binding(name, namespace)}[kind]()


@pytest.fixture(scope="module")
def trained(local_cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("course") / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    first = provision.provision(local_cluster.api(), PEOPLE, folder, access, LOCAL, expiry=3600)
    yield folder, first, access
    provision.teardown(local_cluster.api(), folder)


def test_each_attendee_gets_the_namespace_objects_and_private_credentials(trained, k8s):
    folder, outcomes, _ = trained
    assert [o.token for o in outcomes] == ["new", "new"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for person in PEOPLE:
        home = folder / person.name
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        for name in ("kubeconfig", "environment.yaml"):
            assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
        env = yaml.safe_load((home / "environment.yaml").read_text())
        assert {k: env[k] for k in ("environment", "target", "prefix", "namespace",
                                    "kubeconfig")} == {
            "environment": "training", "target": "local", "prefix": person.name,
            "namespace": person.namespace, "kubeconfig": str((home / "kubeconfig").resolve())}
        labels = k8s.CoreV1Api().read_namespace(person.namespace).metadata.labels
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["app.kubernetes.io/managed-by"] == "aks-runbook-training"
        quota = k8s.CoreV1Api().read_namespaced_resource_quota("training", person.namespace)
        assert quota.spec.hard["pods"] == "30"
        policies = {p.metadata.name for p in k8s.NetworkingV1Api().list_namespaced_network_policy(
            person.namespace).items}
        assert policies == {"training-default-deny", "training-allow-same-namespace",
                            "training-allow-dns"}
    bindings = k8s.RbacAuthorizationV1Api().list_cluster_role_binding().items
    assert not [b for b in bindings for s in b.subjects or []
                if (s.namespace or "").startswith("training-")], "nothing cluster-wide"


def test_provisioning_twice_changes_nothing(trained, local_cluster, k8s):
    folder, _, access = trained
    before = {p.name: _resource_versions(k8s, p.namespace, folder) for p in PEOPLE}
    files = {p.name: (folder / p.name / "kubeconfig").read_bytes() for p in PEOPLE}
    again = provision.provision(local_cluster.api(), PEOPLE, folder, access, LOCAL, expiry=3600)
    assert [(o.changes, o.token) for o in again] == [([], "kept"), ([], "kept")]
    assert {p.name: _resource_versions(k8s, p.namespace, folder) for p in PEOPLE} == before
    assert {p.name: (folder / p.name / "kubeconfig").read_bytes() for p in PEOPLE} == files


def test_a_token_near_expiry_or_longer_than_asked_is_replaced(trained, local_cluster):
    folder, _, access = trained
    kubeconfig = folder / "alice" / "kubeconfig"
    old = kubeconfig.read_bytes()
    # asked for 10 minutes now: the 1-hour token lives longer than asked, so it is replaced
    shorter = provision.provision(local_cluster.api(), PEOPLE[:1], folder, access, LOCAL,
                                  expiry=600)
    assert shorter[0].token == "new" and kubeconfig.read_bytes() != old
    exp = credentials.token_expiry(kubeconfig)
    claims = credentials.claims(yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]
                                ["token"])
    assert exp - claims["iat"] == 600
    # asked for 4 hours: 10 minutes left is less than a quarter of it, so it is replaced
    longer = provision.provision(local_cluster.api(), PEOPLE[:1], folder, access, LOCAL,
                                 expiry=4 * 3600)
    assert longer[0].token == "new"
    assert status_of(lambda: attendee_client(folder, "alice").CoreV1Api().list_namespaced_pod(
        "training-alice")) == 200
    back = provision.provision(local_cluster.api(), PEOPLE[:1], folder, access, LOCAL,
                               expiry=3600)  # as the module's other tests expect it
    assert back[0].token == "new"


LEEWAY = 60  # seconds the API server still accepts an expired service account token


def _signed_again(local_cluster, token: str, expires_in: float) -> str:
    """The attendee's own token with its lifetime moved, signed again with the local cluster's
    service-account key: what the same token is once that much time has passed."""
    import jwt  # PyJWT, from the lock

    key = (local_cluster.cluster_dir / "pki" / "admin.key").read_bytes()
    header = jwt.get_unverified_header(token)
    claims = credentials.claims(token)
    now = int(time.time())
    lifetime = claims["exp"] - claims["iat"]
    claims.update(exp=now + int(expires_in), iat=now + int(expires_in) - lifetime,
                  nbf=now + int(expires_in) - lifetime)
    return jwt.encode(claims, key, algorithm=header["alg"], headers={"kid": header["kid"]})


def test_the_api_server_refuses_an_attendee_token_once_it_has_expired(trained, local_cluster,
                                                                       tmp_path):
    """The wall-clock version (11 minutes: the TokenRequest minimum and the leeway) is
    bench/token_expiry.py. Here the real API server judges the attendee's own kubeconfig with
    its token's claims signed again by the cluster's key, as they stand before, at and after
    the expiry."""
    folder, _, _ = trained
    kubeconfig = yaml.safe_load((folder / "alice" / "kubeconfig").read_text())
    token = kubeconfig["users"][0]["user"]["token"]

    def status(expires_in: float) -> int:
        kubeconfig["users"][0]["user"]["token"] = _signed_again(local_cluster, token, expires_in)
        later = tmp_path / f"kubeconfig{expires_in:+.0f}"
        later.write_text(yaml.safe_dump(kubeconfig))
        api = client_for(later, retries=0).CoreV1Api()
        return status_of(lambda: api.list_namespaced_pod("training-alice"))

    assert status(+300) == 200  # the re-signed token is accepted while it lives: a fair copy
    assert status(-LEEWAY // 2) == 200  # expired half a minute ago: still within the leeway
    assert status(-LEEWAY - 5) == 401  # past the leeway: refused
    assert status(-3600) == 401


def test_an_attendee_works_in_their_namespace_and_nowhere_else(trained):
    folder, _, _ = trained
    alice = attendee_client(folder, "alice")
    core, rbac = alice.CoreV1Api(), alice.RbacAuthorizationV1Api()
    own = {"metadata": {"name": "mine"}, "data": {"k": "v"}}
    assert status_of(lambda: core.create_namespaced_config_map("training-alice", own)) == 200
    assert status_of(lambda: core.list_namespaced_secret("training-alice")) == 200
    # bob's namespace: neither read nor change
    assert status_of(lambda: core.list_namespaced_pod("training-bob")) == 403
    assert status_of(lambda: core.list_namespaced_secret("training-bob")) == 403
    assert status_of(lambda: core.read_namespaced_service_account("attendee",
                                                                "training-bob")) == 403
    assert status_of(lambda: core.create_namespaced_config_map("training-bob", own)) == 403
    assert status_of(lambda: core.delete_namespaced_service_account("attendee",
                                                                  "training-bob")) == 403
    assert status_of(lambda: core.create_namespaced_service_account_token(
        "attendee", "training-bob", {"spec": {"expirationSeconds": 600}})) == 403
    # nothing cluster-wide: no Secrets in all namespaces, no cluster-wide objects
    assert status_of(lambda: core.list_secret_for_all_namespaces()) == 403
    assert status_of(lambda: core.list_namespace()) == 403
    assert status_of(lambda: core.create_namespace({"metadata": {"name": "alice-own"}})) == 403
    assert status_of(lambda: rbac.create_cluster_role_binding({
        "metadata": {"name": "alice-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "attendee",
                      "namespace": "training-alice"}]})) == 403
    assert status_of(lambda: rbac.create_cluster_role({"metadata": {"name": "alice-role"},
                                                     "rules": []})) == 403
    # nor can she grant herself more inside her namespace (RBAC escalation check)
    assert status_of(lambda: rbac.create_namespaced_role_binding("training-alice", {
        "metadata": {"name": "escalate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "attendee",
                      "namespace": "training-alice"}]})) == 403


def test_pod_security_restricted_is_enforced_in_an_attendee_namespace(trained):
    folder, _, _ = trained
    privileged = {"metadata": {"name": "root"}, "spec": {"containers": [{
        "name": "c", "image": "mcr.microsoft.com/azurelinux/base/core:3.0",
        "securityContext": {"privileged": True}}]}}
    alice = attendee_client(folder, "alice").CoreV1Api()
    with pytest.raises(ApiException) as refused:
        alice.create_namespaced_pod("training-alice", privileged)
    assert refused.value.status == 403 and "restricted" in refused.value.body


def test_a_bad_roster_creates_nothing_and_names_every_bad_line(local_cluster, tmp_path, k8s):
    roster = tmp_path / "class.csv"
    roster.write_text("name,email\nzed,\n\nZed!,\nzed,\n")
    before = {ns.metadata.name for ns in k8s.CoreV1Api().list_namespace().items}
    out = subprocess.run([sys.executable, "-m", "aks_runbook.cli", "training", "provision",
                          "--roster", str(roster), "--folder", str(tmp_path / "training")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2, out.stderr
    assert "3 bad line(s)" in out.stderr
    for line in ("line 3: empty line", "line 4: name 'Zed!'", "line 5: name 'zed' is a "
                 "duplicate of line 2"):
        assert line in out.stderr
    # nothing new (another test's namespace may finish terminating meanwhile)
    assert {ns.metadata.name for ns in k8s.CoreV1Api().list_namespace().items} <= before
    assert not (tmp_path / "training").exists()


def test_a_namespace_not_made_by_training_is_never_taken_over(local_cluster, tmp_path, k8s):
    k8s.CoreV1Api().create_namespace({"metadata": {"name": "training-carol"}})
    try:
        with pytest.raises(provision.ProvisionError, match="training-carol exist but were not "
                                                           "created by training provision"):
            provision.provision(local_cluster.api(), [Attendee("dave"), Attendee("carol")],
                                tmp_path / "t", credentials.ClusterAccess.from_kubeconfig(
                                    local_cluster.kubeconfig), LOCAL)
        assert status_of(lambda: k8s.CoreV1Api().read_namespace("training-dave")) == 404
    finally:
        k8s.CoreV1Api().delete_namespace("training-carol")


def test_cli_provision_then_teardown_leaves_nothing_behind(trained, tmp_path, k8s):
    folder = tmp_path / "training"
    cli = [sys.executable, "-m", "aks_runbook.cli", "training"]
    made = subprocess.run([*cli, "provision", "--attendees", "2", "--expiry", "15m",
                           "--folder", str(folder)], capture_output=True, text=True, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    assert "attendee01" in made.stdout and "new token" in made.stdout
    token = yaml.safe_load((folder / "attendee01" / "kubeconfig").read_text())["users"][0][
        "user"]["token"]
    assert token not in made.stdout + made.stderr, "tokens are never printed"
    again = subprocess.run([*cli, "provision", "--attendees", "2", "--expiry", "15m",
                            "--folder", str(folder)], capture_output=True, text=True, cwd=ROOT)
    assert again.stdout.count("unchanged, kept token") == 2, again.stdout
    saved = (folder / "attendee01" / "kubeconfig").read_bytes()
    gone = subprocess.run([*cli, "teardown", "--folder", str(folder)], capture_output=True,
                          text=True, cwd=ROOT)
    assert gone.returncode == 0, gone.stderr
    assert "removed namespace training-attendee01" in gone.stdout
    assert f"removed credentials {folder / 'attendee02'}" in gone.stdout
    assert not folder.exists()
    core = k8s.CoreV1Api()
    ours = {"training-attendee01", "training-attendee02"}
    assert ours.isdisjoint(n.metadata.name for n in core.list_namespace().items)
    accounts = core.list_service_account_for_all_namespaces().items
    assert ours.isdisjoint(a.metadata.namespace for a in accounts)
    # another session's attendees (provisioned for another folder) are left alone
    assert status_of(lambda: core.read_namespace("training-alice")) == 200
    # the token in the removed kubeconfig is refused now that its service account is gone
    stale = tmp_path / "stale.kubeconfig"
    stale.write_bytes(saved)
    assert status_of(lambda: client_for(stale, retries=0).CoreV1Api().list_namespaced_pod(
        "training-attendee01")) == 401


def test_provisioning_the_local_cluster_needs_confined_exec(local_cluster, monkeypatch):
    from aks_runbook.training import admin

    assert admin.admin_kubeconfig("local", None) == local_cluster.kubeconfig
    monkeypatch.setattr(admin, "exec_confined", lambda: False)
    with pytest.raises(provision.ProvisionError, match="apt-get install bubblewrap"):
        admin.admin_kubeconfig("local", None)
    with pytest.raises(provision.ProvisionError, match="give the trainer's kubeconfig with "
                                                       "--admin-kubeconfig"):
        admin.admin_kubeconfig("aks", None)
    with pytest.raises(provision.ProvisionError, match="--admin-kubeconfig nowhere: no such"):
        admin.admin_kubeconfig("aks", "nowhere")


def test_no_credentials_before_the_policies_are_enforced(local_cluster, tmp_path, monkeypatch):
    """Policies the API server does not enforce in the attendee's namespace (here: a namespace
    without the label their bindings select, as if the policies had not loaded yet) stop
    provisioning before any attendee gets a kubeconfig."""
    made = provision.objects

    def unlabelled(*args, **kwargs):
        bodies = made(*args, **kwargs)
        for body in bodies:
            if body["kind"] == "Namespace":
                del body["metadata"]["labels"]["app.kubernetes.io/managed-by"]
        return bodies
    monkeypatch.setattr(provision, "objects", unlabelled)
    real = provision._wait_enforced
    monkeypatch.setattr(provision, "_wait_enforced", lambda c, a: real(c, a, timeout=2))
    admin = local_cluster.api()
    folder = tmp_path / "training"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    person = Attendee(f"p{uuid.uuid4().hex[:5]}")  # a name no other test uses
    try:
        with pytest.raises(provision.ProvisionError,
                           match=rf"not enforced after 2 s \(a token Secret is still accepted in "
                                 rf"{person.namespace}\); no credentials were written"):
            provision.provision(admin, [person], folder, access, LOCAL, expiry=3600)
        assert not (folder / person.name / "kubeconfig").exists()
        assert not (folder / person.name / "environment.yaml").exists()
    finally:
        core = admin.CoreV1Api()
        status_of(lambda: core.delete_namespace(person.namespace))
        # gone before the next test: other tests read every namespace of the cluster
        deadline = time.monotonic() + 60
        while status_of(lambda: core.read_namespace(person.namespace)) != 404:
            assert time.monotonic() < deadline, f"{person.namespace} still terminating"
            time.sleep(0.5)
