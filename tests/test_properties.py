"""Properties of the masking and of the parameter file format (Hypothesis): masking is
idempotent and leaves no planted secret behind; a valid environment survives the round trip
through the parameters papermill injects (to_papermill -> YAML -> load)."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aks_runbook import params
from aks_runbook.run.redact import MASK, Redactor

# ---- masking ----------------------------------------------------------------------------------

SECRET = st.text(string.ascii_letters + string.digits, min_size=12, max_size=40)
SEGMENT = st.text(string.ascii_letters + string.digits + "_-", min_size=8, max_size=30)
# Shapes that carry a secret, each with the secret in the {} slot.
SHAPES = [
    "token: {}", '"password": "{}"', "client-key-data: {}", "Authorization: Bearer {}",
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey={};EndpointSuffix=x",
    "Endpoint=sb://n/;SharedAccessKeyName=R;SharedAccessKey={}", "Server=s;Password={};",
    "https://a.blob.core.windows.net/c?sv=1&sig={}", "az ad sp create --password {}",
    "--client-secret={}", "kubectl create secret generic x --from-literal=db-password={}",
    "az login --service-principal -u app -p {} --tenant t", '{{"clientSecret":"{}"}}',
    "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
    "apiVersion: v1\nkind: Secret\ndata:\n  key: {}\n",
]
NOISE = st.text(string.ascii_letters + string.digits + " :=,.{}\"'/-\n", max_size=40)
# Text made of pieces of secret shapes and noise, to reach the patterns' corners.
PIECES = st.lists(st.one_of(NOISE, st.sampled_from(SHAPES).map(lambda s: s.replace("{}", "x1")),
                            st.sampled_from(["token", ":", "=", " ", "\n", MASK, "Bearer ",
                                             "eyJ", ".", "-----", "sig=", "kind: Secret\n",
                                             "data:\n  ", "8Q~", "az login", " -p "])),
                  max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_masking_is_idempotent(text):
    once = Redactor().text(text)
    twice = Redactor().text(once)
    assert twice == once


# A mask glued to `}`, `,` or `'`, where two patterns disagree on where a value ends.
@pytest.mark.parametrize("text", ["Server=s;Password=x1;}'}",
                                  "kubectl create secret generic x "
                                  "--from-literal=db-password=x1,';b1,"])
def test_masking_a_glued_mask_again_changes_nothing(text):
    once = Redactor().text(text)
    assert Redactor().text(once) == once


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SHAPES), SECRET, NOISE, NOISE)
def test_a_planted_secret_never_survives(shape, secret, before, after):
    assume(secret not in before + after)
    text = f"{before}\n{shape.format(secret)}\n{after}"
    masked = Redactor().text(text)
    assert secret not in masked
    assert Redactor().text(masked) == masked


@settings(max_examples=200, deadline=None)
@given(st.lists(SEGMENT, min_size=3, max_size=3), NOISE, NOISE)
def test_a_bare_json_web_token_never_survives(segments, before, after):
    token = "eyJ" + segments[0] + ".eyJ" + segments[1] + "." + segments[2]
    assume(segments[1] not in before + after)
    masked = Redactor().text(f"{before} {token} {after}")
    assert token not in masked and segments[1] not in masked


@settings(max_examples=200, deadline=None)
@given(SECRET, st.text(max_size=40), st.text(max_size=40))
def test_a_known_value_never_survives_in_any_text(secret, before, after):
    redactor = Redactor([secret])
    masked = redactor.text(before + secret + after)
    assert secret not in masked
    assert redactor.text(masked) == masked


# ---- the parameter file format ----------------------------------------------------------------

def regex(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True)


NETWORKS = [  # valid combinations of plugin, mode, dataplane and policy
    {"plugin": "azure", "plugin_mode": "overlay", "dataplane": "cilium", "policy": "cilium"},
    {"plugin": "azure", "plugin_mode": "overlay", "dataplane": "azure", "policy": "calico"},
    {"plugin": "azure", "plugin_mode": None, "dataplane": "azure", "policy": "azure"},
    {"plugin": "kubenet", "plugin_mode": None, "dataplane": "azure", "policy": "calico"},
    {"plugin": "none", "plugin_mode": None, "dataplane": "azure", "policy": "none"},
]


@st.composite
def node_pools(draw) -> list[dict]:
    names = draw(st.lists(regex(r"[a-z][a-z0-9]{0,11}"), min_size=1, max_size=3, unique=True))
    pools = [{"name": name, "count": draw(st.integers(1, 50)),
              "vm_size": draw(st.sampled_from(["Standard_D4ds_v5", "Standard_B2s"])),
              "mode": draw(st.sampled_from(["System", "User"])),
              "max_pods": draw(st.integers(10, 250))} for name in names]
    pools[0]["mode"] = "System"
    return pools


@st.composite
def environments(draw) -> dict:
    target = draw(st.sampled_from(["local", "kind", "aks", "replay"]))
    private = draw(st.booleans())
    entra = draw(st.booleans())
    local_off = entra and draw(st.booleans())
    execute = target == "aks" and draw(st.booleans())
    raw = {
        "environment": draw(regex(r"[a-z][a-z0-9]{0,19}")),
        "target": target,
        "prefix": draw(regex(r"[a-z][a-z0-9]{1,9}")),
        "location": draw(st.sampled_from(["japaneast", "westeurope", "eastus2"])),
        "subscription_id": draw(st.none() | st.uuids().map(str)),
        "kubernetes_version": draw(regex(r"1\.[0-9]{2}(\.[0-9]{1,2})?")),
        "node_pools": draw(node_pools()),
        "network": {**draw(st.sampled_from(NETWORKS)),
                    "dns_service_ip": f"10.0.{draw(st.integers(0, 255))}."
                                      f"{draw(st.integers(2, 254))}"},
        "api_server": {"private_cluster": private, "authorized_ip_ranges": [] if private else
                       draw(st.lists(st.sampled_from(["131.107.0.0/16", "20.1.2.0/24",
                                                      "52.0.0.1/32"]), unique=True))},
        "egress": {"outbound_type": draw(st.sampled_from(["loadBalancer",
                                                          "userDefinedRouting"]))},
        "entra": {"enabled": entra, "azure_rbac": entra and draw(st.booleans()),
                  "disable_local_accounts": local_off,
                  # executing with local accounts off needs an admin group (no lockout)
                  "admin_group_object_ids": draw(st.lists(
                      st.uuids().map(str), min_size=1 if execute and local_off else 0,
                      max_size=2))},
        "upgrades": {"auto_upgrade_channel": draw(st.sampled_from(["none", "patch", "rapid"])),
                     "maintenance_window": {
                         "day_of_week": draw(st.sampled_from(["Monday", "Sunday"])),
                         "start_time": draw(regex(r"([01][0-9]|2[0-3]):[0-5][0-9]")),
                         "duration_hours": draw(st.integers(4, 24)),
                         "utc_offset": draw(regex(r"[+-](0[0-9]|1[0-4]):[0-5][0-9]"))}},
        "production": draw(st.booleans()),
        "execute": execute,
        "keep": draw(st.booleans()),
    }
    if target == "replay":
        raw["transcript"] = "runs/previous/transcript.jsonl"
    for name, pattern in (("resource_group", r"rg-[a-z0-9]{1,20}"),
                          ("cluster_name", r"[a-z][a-z0-9-]{0,20}[a-z0-9]"),
                          ("acr_name", r"[a-z0-9]{5,50}")):
        if draw(st.booleans()):
            raw[name] = draw(regex(pattern))
    return raw


@settings(max_examples=150, deadline=None)
@given(environments())
def test_a_valid_environment_round_trips_through_the_parameter_file(raw):
    env = params.load(raw)
    injected = params.to_papermill(env)
    again = params.load(yaml.safe_load(yaml.safe_dump(injected)))
    assert again == env
    assert params.to_papermill(again) == injected
    assert (again.rg, again.cluster, again.acr) == (env.rg, env.cluster, env.acr)
