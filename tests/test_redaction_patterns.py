"""One case per masking pattern, shaped so that no other pattern masks it: dropping or breaking
a pattern leaks exactly its case. Plus the known-value rules (length, base64, kubeconfig)."""

from __future__ import annotations

import base64

import pytest

from aks_runbook.run import redact
from aks_runbook.run.redact import MASK, PATTERNS, Redactor

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dmlld2VyIn0"
       ".c2lnbmF0dXJlLXZhbHVl")

# (pattern index in PATTERNS, text, the secret in it, what stays visible)
CASES = [
    (0, "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7bq98\n-----END RSA PRIVATE KEY-----",
     "MIIEpAIBAAKCAQEA7bq98", "-----BEGIN RSA PRIVATE KEY-----"),
    (1, "    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRF", "LS0tLS1CRUdJTiBFQyBQUklWQVRF",
     "client-key-data: "),
    (2, "Authorization: Bearer 0pAqUe.Acc3ss~Val+ue/x==", "0pAqUe.Acc3ss~Val+ue/x",
     "Authorization: Bearer "),
    (3, f"$ kubectl create token viewer\n{JWT}\n", JWT, "kubectl create token viewer"),
    (4, "AccountName=st;AccountKey=Zm9vYmFyYmF6cXV4;EndpointSuffix=core.windows.net",
     "Zm9vYmFyYmF6cXV4", "AccountKey="),
    (5, "https://st.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig=AbC%2Bd3fGh1j%3D",
     "AbC%2Bd3fGh1j%3D", "&sig="),
    (6, "az ad app credential reset --id 1 --client-secret Xq7-notAnEntraShape",
     "Xq7-notAnEntraShape", "--client-secret "),
    (7, "az login --service-principal -u 1111 -p Sup3r-S3cret-Pass --tenant t", "Sup3r-S3cret-Pass",
     "--tenant t"),
    (8, "Application secret abc8Q~Zr1xY2wV3uT4sR5qP6oN7mL8kJ9iH0gFe created",
     "abc8Q~Zr1xY2wV3uT4sR5qP6oN7mL8kJ9iH0gFe", "Application secret "),
]
IDS = ["pem", "kubeconfig-credential", "bearer", "bare-jwt", "connection-string", "sas-sig",
       "cli-secret-flag", "az-login-p", "entra-secret-shape"]


def test_every_pattern_has_a_case():
    assert sorted(index for index, *_ in CASES) == list(range(len(PATTERNS)))


@pytest.mark.parametrize("index, text, secret, kept", CASES, ids=IDS)
def test_each_pattern_masks_its_case(index, text, secret, kept):
    masked = Redactor().text(text)
    assert secret not in masked
    assert MASK in masked and kept in masked  # the reader still sees what was masked


@pytest.mark.parametrize("index, text, secret, kept", CASES, ids=IDS)
def test_no_other_pattern_masks_the_case(index, text, secret, kept):
    """So that each case above fails when, and only when, its own pattern is lost."""
    for other, (pattern, replacement) in enumerate(PATTERNS):
        if other != index:
            assert secret in pattern.sub(replacement, text), f"pattern {other} masks it too"


@pytest.mark.parametrize("text, secret", [
    ("-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----",
     "MIIDdzCCAl+gAwIBAgIE"),
    ('{"token":"abcdef123456"}', "abcdef123456"),
    ("password=hunter2hunter2", "hunter2hunter2"),
    ("refresh-token: 0.AXoA-refresh", "0.AXoA-refresh"),
    ("Endpoint=sb://x/;SharedAccessKeyName=R;SharedAccessKey=S3cr3tK3y=", "S3cr3tK3y"),
    ("Server=db;Pwd=P@ss;", "P@ss"),
    ("BlobEndpoint=x;SharedAccessSignature=sv=2022&sig=abc", "sv=2022"),
    ("kubectl create secret generic s --from-literal=api-key=k3yv4lue", "k3yv4lue"),
    ('adminPassword: "Adm1nPa55"', "Adm1nPa55"),
    ("az login --service-principal -u app --password=P4ssW0rd", "P4ssW0rd"),
])
def test_other_spellings_are_masked(text, secret):
    assert secret not in Redactor().text(text)


@pytest.mark.parametrize("text", [
    "automountServiceAccountToken: false",
    "tokenRequest: enabled",  # a key that merely starts with a secret word
    "az aks get-credentials --name aks1 --resource-group rg",
    "keyvault-secrets-provider: enabled",
    "kind: SecretProviderClass\ndata:\n  objects: keys\n",  # not a Secret: its data is shown
    "Bearer",
    "eyJhbGciOi",  # the start of a JWT is not a token
])
def test_look_alikes_are_left_alone(text):
    assert Redactor().text(text) == text


def test_secret_data_is_masked_only_in_secrets():
    secret = "apiVersion: v1\nkind: Secret\ndata:\n  user: YWRtaW4=\n  pass: cGFzcw==\n"
    assert Redactor().text(secret) == ("apiVersion: v1\nkind: Secret\ndata:\n  user: ***\n"
                                       "  pass: ***\n")
    as_json = '{"kind": "Secret", "stringData": {"user": "admin", "pass": "pass"}}'
    assert Redactor().text(as_json) == '{"kind": "Secret", "stringData": {"user": "***", ' \
                                       '"pass": "***"}}'


def test_known_values_need_six_characters(monkeypatch):
    for name in [n for n in list(__import__("os").environ) if redact.SECRET_ENV.search(n)]:
        monkeypatch.delenv(name)
    redactor = Redactor(["short", "sixsix"])
    assert redactor.text("short sixsix") == f"short {MASK}"
    assert redactor.text("") == ""


def test_longer_known_values_are_masked_first():
    # "zzzzzz" sorts after the longer value: masking it first would leave "abcdef-***"
    redactor = Redactor(["zzzzzz", "abcdef-zzzzzz"])
    assert redactor.text("x abcdef-zzzzzz y") == f"x {MASK} y"


@pytest.mark.parametrize("key", ["token", "password", "client-key-data", "clientSecret",
                                 "client_secret", "secret", "access_token", "refresh_token",
                                 "Password"])
def test_api_object_fields_named_like_secrets_are_masked(key):
    assert Redactor().data({key: "v", "other": "v"}) == {key: MASK, "other": "v"}


@pytest.mark.parametrize("key", ["secretName", "tokens", "passwordPolicy"])
def test_api_object_fields_that_only_mention_secrets_are_kept(key):
    assert Redactor().data({key: "v"}) == {key: "v"}


@pytest.mark.parametrize("name, secret", [
    ("MY_CLIENT_SECRET", True), ("DB_PASSWORD", True), ("GITHUB_TOKEN", True),
    ("STORAGE_KEY", True), ("SSH_KEY_DATA", True), ("SB_CONNECTION_STRING", True),
    ("AZURE_SAS", True), ("KEYBOARD", False), ("HOME", False), ("KEY_VAULT_NAME", False),
])
def test_environment_variables_with_secret_names_are_masked(monkeypatch, name, secret):
    monkeypatch.setenv(name, "value-of-the-variable")
    masked = Redactor().text("see value-of-the-variable")
    assert (masked == f"see {MASK}") is secret


def test_kubeconfig_credentials_are_registered_raw_and_decoded(tmp_path):
    key_data = base64.b64encode(b"decoded-key-material-42").decode()
    cert_data = base64.b64encode(b"decoded-cert-material-42").decode()
    config = tmp_path / "kubeconfig"
    config.write_text(
        "users:\n- name: admin\n  user:\n"
        "    token: planted-bearer-value\n"
        f"    client-key-data: {key_data}\n"
        f"    client-certificate-data: {cert_data}\n"
        "    username: not-a-secret-name\n"
        "- name: other\n  user:\n    password: planted-password\n")
    redactor = Redactor()
    redactor.add_kubeconfig(config)
    secrets = ["planted-bearer-value", key_data, "decoded-key-material-42", cert_data,
               "decoded-cert-material-42", "planted-password"]
    masked = redactor.text("log: " + " ; ".join(secrets) + " ; not-a-secret-name")
    assert masked == "log: " + " ; ".join([MASK] * len(secrets)) + " ; not-a-secret-name"


@pytest.mark.parametrize("content", ["", "users: [unclosed", "users:\n- name: x\n"])
def test_unreadable_or_empty_kubeconfig_registers_nothing(tmp_path, content):
    config = tmp_path / "kubeconfig"
    config.write_text(content)
    redactor = Redactor()
    redactor.add_kubeconfig(config)
    redactor.add_kubeconfig(tmp_path / "missing")
    assert redactor.text("plain text") == "plain text"


def test_api_objects_mask_secret_keys_but_not_other_strings():
    data = {"metadata": {"name": "n"}, "clientSecret": "s3cr3t-value", "count": 3,
            "nested": [{"password": "p4ss-value", "note": f"token: {JWT}"}, "plain"],
            "data": {"x": "y"}}
    masked = Redactor().data(data)
    assert masked == {"metadata": {"name": "n"}, "clientSecret": MASK, "count": 3,
                      "nested": [{"password": MASK, "note": f"token: {MASK}"}, "plain"],
                      "data": {"x": "y"}}  # not a Secret: its data is not secret


def test_secret_objects_are_recognised_by_kind_or_by_shape():
    by_shape = {"type": "Opaque", "metadata": {"name": "s"}, "data": {"k": "dmFsdWU="}}
    assert Redactor().data(by_shape)["data"] == {"k": MASK}
    by_kind = {"kind": "Secret", "stringData": {"k": "value"}}
    assert Redactor().data(by_kind)["stringData"] == {"k": MASK}


def test_credential_data_that_is_not_base64_is_still_masked_raw(tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text("users:\n- user:\n    client-key-data: '%%not-base64%%'\n"
                      "    client-certificate-data: /w==\n")  # base64 of a non-UTF-8 byte
    redactor = Redactor()
    redactor.add_kubeconfig(config)
    assert redactor.text("x %%not-base64%% y") == f"x {MASK} y"
