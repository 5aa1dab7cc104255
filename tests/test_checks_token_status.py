"""Live status of long-lived service account tokens on a real cluster (AKS-AUTH-018): the token
controller fills a Secret of type kubernetes.io/service-account-token only for a ServiceAccount
that exists, and the API server rejects a token whose Secret is labelled
kubernetes.io/legacy-token-invalid-since ('Managing Service Accounts'). Each test proves the
fact on the cluster (the token authenticates, or is refused) before it reads the check's row."""

from __future__ import annotations

import time

import pytest
import yaml

from aks_runbook import checks
from aks_runbook.cluster.objects import load_files, plain_read, read_objects

TOKEN_TYPE = "kubernetes.io/service-account-token"
INVALID = "kubernetes.io/legacy-token-invalid-since"


def token_secret(name: str, account: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
            "metadata": {"name": name,
                         "annotations": {"kubernetes.io/service-account.name": account}}}


def filled(k8s, namespace: str, name: str):
    """The Secret once the token controller has written its token."""
    core = k8s.CoreV1Api()
    for _ in range(120):
        secret = core.read_namespaced_secret(name, namespace)
        if (secret.data or {}).get("token"):
            return secret
        time.sleep(0.5)
    raise AssertionError(f"the token controller never filled Secret {namespace}/{name}")


def who(k8s, token: str) -> str:
    """The user the API server authenticates this bearer token as (SelfSubjectReview), or the
    HTTP status it refuses it with."""
    import base64

    from kubernetes.client import ApiClient, AuthenticationV1Api, Configuration
    from kubernetes.client.exceptions import ApiException

    admin = k8s.api_client.configuration
    bearer = "Bearer " + base64.b64decode(token).decode()
    config = Configuration(host=admin.host, api_key={"authorization": bearer})
    config.ssl_ca_cert = admin.ssl_ca_cert
    config.verify_ssl = admin.verify_ssl
    try:
        review = AuthenticationV1Api(ApiClient(config)).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    except ApiException as error:
        return f"refused {error.status}"
    return review.status.user_info.username


def row(k8s, namespace: str, secret: str) -> checks.Finding:
    state = checks.State(read_objects(plain_read, k8s), namespaces=(namespace,))
    [found] = [f for f in checks.run(state, "03") if f.check == "AKS-AUTH-018"
               and f.resource == f"Secret/{namespace}/{secret}"]
    return found


def test_a_filled_token_fails_and_from_files_only_its_spec_is_judged(k8s, namespace, tmp_path):
    core = k8s.CoreV1Api()
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "deployer"}})
    core.create_namespaced_secret(namespace, token_secret("deployer-token", "deployer"))
    secret = filled(k8s, namespace, "deployer-token")
    assert who(k8s, secret.data["token"]) == f"system:serviceaccount:{namespace}:deployer"

    found = row(k8s, namespace, "deployer-token")
    assert (found.status, found.severity) == ("fail", "medium")
    today = time.strftime("%Y-%m-%d", time.gmtime())  # the authenticator stamped the use above
    assert found.evidence == (
        "non-expiring token for ServiceAccount deployer, filled by the token controller (the "
        f"account exists and its uid matches): valid until the Secret is deleted; last used "
        f"{today}")
    assert secret.data["token"] not in str(found)

    # the same Secret saved with kubectl get -o yaml (token and all) and read from files
    saved = plain_read("get", lambda: core.read_namespaced_secret("deployer-token", namespace))
    (tmp_path / "saved.yaml").write_text(yaml.safe_dump(saved))
    view = checks.State(load_files([tmp_path]).objects, origin="files")
    [from_files] = [f for f in checks.run(view, "03") if f.check == "AKS-AUTH-018"]
    assert (from_files.resource, from_files.status) == (f"Secret/{namespace}/deployer-token",
                                                        "fail")
    assert from_files.evidence == (
        "non-expiring token for ServiceAccount deployer once applied (the token controller "
        "fills it); from files: judged from the spec, its live status (token filled, "
        "kubernetes.io/legacy-token-invalid-since, kubernetes.io/legacy-token-last-used) is not "
        "known")


def test_a_token_secret_for_a_missing_account_never_carries_a_token(k8s, namespace):
    core = k8s.CoreV1Api()
    created = plain_read("create", lambda: core.create_namespaced_secret(
        namespace, token_secret("ghost-token", "ghost")))
    # the check's row for the Secret as the API server stored it
    state = checks.State(read_objects(plain_read, k8s), namespaces=(namespace,))
    state.objects["secrets"] = [s for s in state.objects["secrets"]
                                if s["metadata"]["name"] != "ghost-token"] + [created]
    [found] = [f for f in checks.run(state, "03") if f.check == "AKS-AUTH-018"]
    assert (found.resource, found.status) == (f"Secret/{namespace}/ghost-token", "pass")
    assert found.evidence.startswith("not a credential: ServiceAccount ghost does not exist, so "
                                     "the token controller writes no token into it")

    # the cluster agrees: no token is ever written, and the token controller deletes the Secret
    from kubernetes.client.exceptions import ApiException
    for _ in range(120):
        try:
            secret = core.read_namespaced_secret("ghost-token", namespace)
        except ApiException as error:
            assert error.status == 404
            break
        assert not (secret.data or {}).get("token")
        time.sleep(0.5)
    else:
        pytest.fail("the token controller never deleted the Secret of a missing account")


def test_a_token_labelled_invalid_is_refused_and_reported_invalid(k8s, namespace):
    core = k8s.CoreV1Api()
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "retired"}})
    core.create_namespaced_secret(namespace, token_secret("retired-token", "retired"))
    token = filled(k8s, namespace, "retired-token").data["token"]
    assert who(k8s, token) == f"system:serviceaccount:{namespace}:retired"
    assert row(k8s, namespace, "retired-token").status == "fail"

    core.patch_namespaced_secret("retired-token", namespace,
                                 {"metadata": {"labels": {INVALID: "2026-01-01"}}})
    refused = who(k8s, token)
    for _ in range(40):  # the authenticator reads the Secret through an informer
        if refused.startswith("refused"):
            break
        time.sleep(0.5)
        refused = who(k8s, token)
    assert refused == "refused 401"

    found = row(k8s, namespace, "retired-token")
    assert found.status == "pass"
    assert found.evidence == (
        f"invalid since 2026-01-01 (label {INVALID}): the API server rejects the token; removing "
        "the label makes it valid again, delete the Secret")
