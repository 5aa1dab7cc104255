"""Secrets never reach what the runbook writes: realistic shapes, and a planted-secrets run."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aks_runbook.run import chapters as runs
from aks_runbook.run.redact import MASK, Redactor

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMi"
       "fQ.c2lnbmF0dXJlLXZhbHVlLWZvci10ZXN0cw")
ENTRA_SECRET = "abc8Q~Zr1xY2wV3uT4sR5qP6oN7mL8kJ9iH0gFe"
PEM_KEY = ("-----BEGIN EC PRIVATE KEY-----\n"
           "MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n"
           "-----END EC PRIVATE KEY-----")


@pytest.mark.parametrize("text, secret", [
    (f"Authorization: Bearer {JWT}", JWT),
    (f"token: {JWT}", JWT),
    (f"users:\n- name: admin\n  user:\n    client-key-data: {base64.b64encode(b'KEY').decode()}"
     f"LS0tLS1CRUdJTg==", "LS0tLS1CRUdJTg=="),
    ("    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
     "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"),
    (PEM_KEY, "MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY"),
    (f'{{"clientSecret": "{ENTRA_SECRET}"}}', ENTRA_SECRET),
    (f"az ad sp create --password {ENTRA_SECRET}", ENTRA_SECRET),
    (f"Application secret {ENTRA_SECRET} created", ENTRA_SECRET),
    ("az login --service-principal -u 1111 -p Sup3r-S3cret-Pass --tenant t", "Sup3r-S3cret-Pass"),
    ("DefaultEndpointsProtocol=https;AccountName=st;AccountKey=Zm9vYmFyYmF6cXV4==;EndpointSuffix"
     "=core.windows.net", "Zm9vYmFyYmF6cXV4=="),
    ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=S3cr3tK3y"
     "Value=", "S3cr3tK3yValue="),
    ("https://st.blob.core.windows.net/c/f?sv=2022-11-02&se=2026-12-01&sp=r&sig=AbC%2Bd3fGh1j%3D",
     "AbC%2Bd3fGh1j%3D"),
    ("Server=tcp:db.database.windows.net;Database=app;User ID=admin;Password=P@ssw0rd!;",
     "P@ssw0rd!"),
    ("kubectl create secret generic db --from-literal=password=hunter2hunter2", "hunter2hunter2"),
    ("apiVersion: v1\ndata:\n  api-key: c2VjcmV0LXZhbHVl\nkind: Secret\n", "c2VjcmV0LXZhbHVl"),
    ('{"apiVersion": "v1", "data": {"tls.key": "a2V5LWJ5dGVz"}, "kind": "Secret"}',
     "a2V5LWJ5dGVz"),
])
def test_secret_shapes_are_masked(text, secret):
    masked = Redactor().text(text)
    assert secret not in masked
    assert MASK in masked


def test_known_values_are_masked_with_their_base64(monkeypatch):
    monkeypatch.setenv("ARM_CLIENT_SECRET", "value-from-the-environment")
    redactor = Redactor(["registered-secret"])
    text = ("registered-secret value-from-the-environment "
            + base64.b64encode(b"registered-secret").decode())
    assert redactor.text(text).split() == [MASK, MASK, MASK]


def test_ordinary_output_is_left_alone():
    text = ("automountServiceAccountToken: false\nNAME   READY\nfront  1/1\n"
            "data:\n  color: blue\nkind: ConfigMap\n")
    assert Redactor().text(text) == text


# Each pass of the patterns eats one more glued `',` after the mask; this text takes five
# passes (a fixed four left `Password=***,`, which masking again changed).
def test_a_mask_glued_to_many_separators_is_final_after_one_masking():
    once = Redactor().text("Password=x1,',',',;,")
    assert once == "Password=***"
    assert Redactor().text(once) == once


def test_api_objects_are_masked_by_key_and_secret_data():
    data = {"kind": "Secret", "type": "Opaque", "metadata": {"name": "s"},
            "data": {"password": "cGFzcw==", "user": "dXNlcg=="}, "token": "abc"}
    masked = Redactor().data(data)
    assert masked["data"] == {"password": MASK, "user": MASK} and masked["token"] == MASK
    assert masked["metadata"] == {"name": "s"}


def test_planted_secrets_appear_in_no_file_of_a_run(k8s, local_cluster, tmp_path, monkeypatch):
    """Plant secrets in the cluster, the environment and the kubeconfig; grep every file."""
    planted_key = "planted-api-key-value-4711"
    connection = ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=plantedKey4711==;"
                  "EndpointSuffix=core.windows.net")
    monkeypatch.setenv("PLANTED_SECRET", planted_key)
    monkeypatch.setenv("PLANTED_CONNECTION_STRING", connection)
    kubeconfig = local_cluster.kubeconfig.read_text()
    client_key = kubeconfig.split("client-key:")[1].split()[0] if "client-key:" in kubeconfig \
        else None
    forbidden = [planted_key, base64.b64encode(planted_key.encode()).decode(),
                 "plantedKey4711==", "eyJhbGciOi"]
    if client_key:
        forbidden.append(Path(client_key).read_text().splitlines()[1])
    try:
        result = runs.run(ROOT / "environments" / "local.yaml", directory=NOTEBOOKS,
                          runs_root=tmp_path)
        assert result.ok, runs.failure_message(result)
        stored = k8s.CoreV1Api().read_namespaced_secret("planted", "default").data["api-key"]
        assert base64.b64decode(stored).decode() == planted_key, "the secret was really used"
        files = [p for p in result.folder.rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"00-smoke.ipynb", "00-smoke.html", "transcript.jsonl",
                                           "findings.csv", "findings.json", "summary.json"}
        transcript = (result.folder / "transcript.jsonl").read_text()
        assert "create token" in transcript and MASK in transcript
        for path in files:
            content = path.read_text(errors="replace")
            for secret in forbidden:
                assert secret not in content, f"{secret[:12]}… leaked into {path.name}"
    finally:
        k8s.CoreV1Api().delete_namespaced_secret("planted", "default")


NOTEBOOKS = Path(__file__).parent / "notebooks"
ROOT = Path(__file__).resolve().parents[1]
