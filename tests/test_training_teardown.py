"""Issue 17: `training teardown` always finishes. Finalizers an attendee added are removed (the
trainer is the cluster's admin) and reported; the credentials go first; what cannot be removed
is listed and the command exits non-zero; `--all` also removes the admission policies.

The session's own cluster (tests/conftest.py); each test provisions an attendee of its own.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from aks_runbook.training import credentials, provision
from aks_runbook.training.roster import Attendee
from training_access import attendee_client, status_of

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
EXPIRY = 3600


def test_teardown_removes_finalizers_an_attendee_added_and_finishes(local_cluster, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(provision, "FINALIZER_GRACE", 6)  # the namespace controller needs 5 s
    folder = tmp_path / "training"
    admin = local_cluster.api()
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(admin, [Attendee("carol")], folder, access, LOCAL, expiry=EXPIRY)
    carol = attendee_client(folder, "carol").CoreV1Api()
    carol.create_namespaced_config_map("training-carol", {"metadata": {
        "name": "stuck", "finalizers": ["example.com/never"]}})
    # attendees cannot touch their namespace; the finalizer there is someone else's
    assert status_of(lambda: carol.patch_namespace("training-carol", {
        "metadata": {"finalizers": ["example.com/mine"]}})) == 403
    admin.CoreV1Api().patch_namespace("training-carol", {
        "metadata": {"finalizers": ["example.com/never"]}})
    started = time.monotonic()
    result = provision.teardown(admin, folder, timeout=60)
    assert time.monotonic() - started < 60
    assert result.left == [], result.left
    assert result.removed[:3] == [f"hub logins {folder / 'logins.json'}",  # logins first,
                                  f"hub logins {folder / 'handout.csv'}",
                                  f"credentials {folder / 'carol'}"]  # then credentials
    assert "finalizer(s) example.com/never of ConfigMap training-carol/stuck" in result.removed
    assert "finalizer(s) example.com/never of namespace training-carol" in result.removed
    assert not folder.exists()
    names = {ns.metadata.name for ns in admin.CoreV1Api().list_namespace().items}
    assert "training-carol" not in names


def test_teardown_that_cannot_finish_lists_what_is_left_and_the_cli_fails(
        local_cluster, tmp_path, monkeypatch, capsys):
    from aks_runbook import cli

    folder = tmp_path / "training"
    admin = local_cluster.api()
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(admin, [Attendee("dave")], folder, access, LOCAL, expiry=EXPIRY)
    attendee_client(folder, "dave").CoreV1Api().create_namespaced_config_map("training-dave", {
        "metadata": {"name": "stuck", "finalizers": ["example.com/never"]}})
    monkeypatch.setattr(provision, "_remove_finalizers", lambda *args: [])  # as if refused
    monkeypatch.setattr(provision, "FINALIZER_GRACE", 3)
    real_teardown = provision.teardown
    monkeypatch.setattr(provision, "teardown", lambda *a, **k: real_teardown(*a, **k, timeout=6))
    code = cli.main(["training", "teardown", "--folder", str(folder), "--admin-kubeconfig",
                     str(local_cluster.kubeconfig)])
    out = capsys.readouterr()
    assert code == 1
    assert f"removed credentials {folder / 'dave'}" in out.out
    assert "NOT removed:\n  namespace training-dave: still terminating:" in out.err
    assert "example.com/never" in out.err, out.err
    assert not (folder / "dave").exists(), "the credentials went first"
    monkeypatch.undo()
    monkeypatch.setattr(provision, "FINALIZER_GRACE", 6)
    result = provision.teardown(admin, folder, timeout=60)  # the real one finishes it
    assert result.left == []


def test_teardown_all_removes_the_policies_and_a_folder_teardown_keeps_them(
        local_cluster, tmp_path):
    admin = local_cluster.api()
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    folder = tmp_path / "training"
    provision.provision(admin, [Attendee("erin")], folder, access, LOCAL, expiry=EXPIRY)
    registration = admin.AdmissionregistrationV1Api()

    def policies() -> set[str]:
        return {p.metadata.name for p in registration.list_validating_admission_policy(
            label_selector="app.kubernetes.io/managed-by=aks-runbook-training").items}
    assert len(policies()) == 6
    provision.teardown(admin, folder)
    assert len(policies()) == 6, "other sessions' namespaces may still need them"
    provision.provision(admin, [Attendee("erin")], folder, access, LOCAL, expiry=EXPIRY)
    result = provision.teardown(admin, folder, everything=True)
    assert policies() == set()
    assert registration.list_validating_admission_policy_binding(
        label_selector="app.kubernetes.io/managed-by=aks-runbook-training").items == []
    assert "ValidatingAdmissionPolicy aks-runbook-training-own-subjects" in result.removed


def test_credentials_go_even_while_a_server_still_writes_in_the_attendees_home(tmp_path):
    # At teardown an attendee's JupyterLab (the hub's) keeps writing in its home until the hub,
    # which has just lost the login, stops it: the credentials go first, the home once quiet.
    attendee = tmp_path / "training" / "ann1"
    writes_into = attendee / "home" / ".local" / "share" / "jupyter"
    writes_into.mkdir(parents=True)
    (attendee / "kubeconfig").write_text("token: not-a-real-one\n")
    (attendee / "environment.yaml").write_text("prefix: ann1\n")
    quiet_at = time.monotonic() + 1.5

    def server() -> None:
        written = 0
        while time.monotonic() < quiet_at:
            try:
                (writes_into / f"autosave-{written}.json").write_text("{}")
                written += 1
            except FileNotFoundError:
                return  # its folder is gone: it cannot write any more
    writer = threading.Thread(target=server)
    writer.start()
    time.sleep(0.2)
    result = provision.Teardown()
    provision._remove_credentials(tmp_path / "training", result)
    writer.join()
    assert result.left == [] and result.removed == [f"credentials {attendee}"]
    assert not (tmp_path / "training").exists()
