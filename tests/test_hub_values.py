"""The class on AKS (training/hub/values.py): the Zero to JupyterHub values validate against the
chart's own schema, and the pod KubeSpawner makes from them for an attendee, rendered by
KubeSpawner's own code, is admitted by a freshly provisioned attendee namespace on the local
cluster (Pod Security restricted, LimitRange, quota: server-side dry runs), while the same pod
without its security context, or asking too much, is refused."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.utils import parse_quantity
from traitlets.config import Config

from aks_runbook.training import credentials, logins, provision
from aks_runbook.training.hub import values as hub_values
from aks_runbook.training.roster import Attendee
from training_access import attendee_client

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "environments" / "local.yaml"
SCHEMA = ROOT / "tests" / "data" / "z2jh" / "values.schema.yaml"
IMAGE = "example.azurecr.io/aks-runbook-hub:1"
RELEASE = "jhub"


# --- the chart's schema --------------------------------------------------------------------

def _schema_for_user_values(node, fixed: bool = True):
    """The chart's schema as helm applies it to a values file: helm validates the user's values
    merged over the chart's defaults, so the `required` keys of the chart's own sections (the
    fixed `properties` paths from the top, all in the chart's values.yaml) are there anyway.
    Everything else (types, enums, additionalProperties: false, the `required` of user-named
    entries such as an extraFiles item) stays."""
    if isinstance(node, list):
        return [_schema_for_user_values(item, False) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "required" and fixed and "properties" in node:
            continue
        if key == "properties":
            out[key] = {name: _schema_for_user_values(sub, fixed) for name, sub in value.items()}
        else:
            out[key] = _schema_for_user_values(value, False)
    return out


@pytest.fixture(scope="module")
def validator():
    schema = yaml.safe_load(SCHEMA.read_text())
    return jsonschema.Draft7Validator(_schema_for_user_values(schema))


def _class_values(**options):
    entry = logins.entry("not-a-real-password")
    return hub_values.values(["alice", "bob"], IMAGE, attendee_logins={"alice": entry},
                             admin_login=entry, **options)


def test_the_values_validate_against_the_charts_schema(validator):
    chart_values = _class_values(idle_timeout=1800, cpu="500m", memory="1536Mi")
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(chart_values)]
    assert errors == []
    assert chart_values["singleuser"]["cpu"] == {"limit": 0.5, "guarantee": 0.5}
    assert chart_values["singleuser"]["memory"]["limit"] == 1536 * 2**20
    assert chart_values["cull"]["timeout"] == 1800


@pytest.mark.parametrize("path, wrong", [
    (("singleuser", "cpu", "limit"), "1"),  # the chart wants a number of cores
    (("singleuser", "storage", "type"), "emptyDir"),
    (("singleuser", "cloudMetadata", "blockWithIptables"), "false"),
    (("hub", "extraFiles", "aks-runbook-logins", "stringData"), {"attendees": {}}),
    (("singleuser", "securityContext"), {"runAsNonRoot": True}),  # not a chart key
    (("hub", "config", "kubeSpawner"), {"enable_user_namespaces": True}),  # lower-case section
])
def test_the_schema_check_refuses_what_the_chart_would(validator, path, wrong):
    chart_values = _class_values()
    node = chart_values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = wrong
    assert list(validator.iter_errors(chart_values)), f"{'.'.join(path)} = {wrong!r} passed"


def test_values_refuse_what_an_attendee_namespace_would():
    with pytest.raises(hub_values.HubValuesError, match=r"--cpu 3: .* at most 2 "):
        hub_values.values(["alice"], IMAGE, cpu="3")
    with pytest.raises(hub_values.HubValuesError, match=r"--memory 4Gi: .* at most 2Gi "):
        hub_values.values(["alice"], IMAGE, memory="4Gi")
    with pytest.raises(hub_values.HubValuesError, match=r"--image 'aks-runbook-hub': give a tag"):
        hub_values.values(["alice"], "aks-runbook-hub")
    with pytest.raises(hub_values.HubValuesError, match=r"'trainer': is the trainer's login"):
        hub_values.values(["trainer"], IMAGE)
    with pytest.raises(hub_values.HubValuesError, match=r"--hub-namespace 'training-hub'"):
        hub_values.values(["alice"], IMAGE, hub_namespace="training-hub")


def test_the_logins_and_the_authenticator_ship_as_hub_files():
    chart_values = _class_values()
    files = chart_values["hub"]["extraFiles"]
    shipped = json.loads(files["aks-runbook-logins"]["stringData"])
    assert set(shipped["attendees"]) == {"alice"}  # bob has no login: he cannot log in
    assert files["aks-runbook-logins"]["mountPath"] == \
        chart_values["hub"]["config"]["RosterAuthenticator"]["logins_file"]
    module = Path(files["aks-runbook-authenticator"]["mountPath"])
    assert chart_values["hub"]["config"]["JupyterHub"]["authenticator_class"] == \
        f"{module.stem}.RosterAuthenticator"
    assert module.parent == Path(hub_values.CONFIG_DIR)  # on the hub's sys.path (z2jh)
    assert "class RosterAuthenticator" in files["aks-runbook-authenticator"]["stringData"]


# --- the pod KubeSpawner makes ---------------------------------------------------------------

def _kubespawner_config(chart_values: dict) -> Config:
    """What z2jh 4.4.0's jupyterhub_config.py configures for these values: its KubeSpawner
    settings from singleuser.*, its labels, then hub.config (passed through) and
    hub.extraConfig (executed). A singleuser key it would read that is not mirrored here
    fails, so the rendered pod cannot silently miss a setting."""
    single = chart_values["singleuser"]
    mirrored = {"image", "uid", "fsGid", "allowPrivilegeEscalation", "serviceAccountName",
                "cloudMetadata", "networkPolicy", "cpu", "memory", "storage", "extraEnv", "cmd",
                "defaultUrl"}
    assert set(single) <= mirrored, set(single) - mirrored
    # what the chart would add instead: the iptables init container, a PVC, a scheduler name
    assert single["cloudMetadata"]["blockWithIptables"] is False
    assert single["storage"]["type"] == "none"
    assert chart_values["scheduling"]["userScheduler"]["enabled"] is False
    c = Config()
    spawner = c.KubeSpawner
    spawner.common_labels = {"app.kubernetes.io/name": "jupyterhub", "app": "jupyterhub",
                             "app.kubernetes.io/instance": RELEASE, "release": RELEASE,
                             "helm.sh/chart": f"jupyterhub-{hub_values.CHART_VERSION}",
                             "chart": f"jupyterhub-{hub_values.CHART_VERSION}",
                             "app.kubernetes.io/managed-by": "kubespawner"}
    spawner.namespace = hub_values.HUB_NAMESPACE  # POD_NAMESPACE, the hub's
    spawner.events_enabled = True  # singleuser.events, default
    spawner.extra_labels = {"hub.jupyter.org/network-access-hub": "true"}  # default
    spawner.start_timeout = 300  # default
    spawner.uid = single["uid"]
    spawner.fs_gid = single["fsGid"]
    if single["serviceAccountName"] is not None:
        spawner.service_account = single["serviceAccountName"]
    spawner.mem_limit = single["memory"]["limit"]
    spawner.mem_guarantee = single["memory"]["guarantee"]
    spawner.cpu_limit = single["cpu"]["limit"]
    spawner.cpu_guarantee = single["cpu"]["guarantee"]
    spawner.environment = single["extraEnv"]
    spawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    spawner.allow_privilege_escalation = single["allowPrivilegeEscalation"]
    spawner.volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    spawner.volume_mounts = {f"{i}-{m['name']}": m
                             for i, m in enumerate(single["storage"]["extraVolumeMounts"])}
    c.Spawner.cmd = single["cmd"]
    c.Spawner.default_url = single["defaultUrl"]
    for section, settings in chart_values["hub"]["config"].items():
        c[section].update(copy.deepcopy(settings))
    for _, code in sorted(chart_values["hub"]["extraConfig"].items()):
        exec(code, {"c": c, "__name__": "jupyterhub_config"})
    return c


def _spawner(chart_values: dict, attendee: str):
    config = _kubespawner_config(chart_values)
    user = SimpleNamespace(name=attendee, id=1, url=f"/user/{attendee}/")
    hub = SimpleNamespace(api_url="http://hub:8081/hub/api", base_url="/hub/",
                          public_host="", url="http://hub:8081/hub/")
    return config.JupyterHub.spawner_class(_mock=True, user=user, hub=hub, config=config)


def render_pod(chart_values: dict, attendee: str) -> tuple[str, dict]:
    """(namespace, pod) as KubeSpawner would create them for the attendee."""
    async def render():
        spawner = _spawner(chart_values, attendee)
        pod = await spawner.get_pod_manifest()
        return spawner.namespace, ApiClient().sanitize_for_serialization(pod)
    return asyncio.run(render())


@pytest.fixture
def kubeconfig_env(local_cluster, monkeypatch):
    """KubeSpawner loads a kubeconfig when it is made (it makes no request for a pod manifest)."""
    monkeypatch.setenv("KUBECONFIG", str(local_cluster.kubeconfig))


def test_the_spawner_puts_the_attendee_in_their_namespace_and_never_creates_one(
        kubeconfig_env):
    async def check():
        spawner = _spawner(_class_values(), "alice")
        assert type(spawner).__name__ == "TrainingKubeSpawner"
        assert spawner.namespace == "training-alice"
        spawner.api = None  # any request would fail
        await spawner._ensure_namespace()
    asyncio.run(check())


def test_the_rendered_pod_is_what_the_class_needs(kubeconfig_env):
    _, pod = render_pod(_class_values(), "alice")
    spec = pod["spec"]
    container, = spec["containers"]
    assert "initContainers" not in spec or not spec["initContainers"]
    assert spec["automountServiceAccountToken"] is False
    assert spec.get("serviceAccountName") is None
    assert container["securityContext"] == {
        "runAsUser": 1000, "runAsGroup": 100, "runAsNonRoot": True,
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}}
    assert container["resources"]["requests"] == container["resources"]["limits"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KUBECONFIG"] == "/home/jovyan/kubeconfig"  # the home's copy (workspace.py)
    assert container["args"] == ["python", "-m", "aks_runbook.training.hub.workspace",
                                 "/etc/aks-runbook", "/opt/aks-runbook/notebooks", "--",
                                 "jupyterhub-singleuser"]
    assert env["JUPYTERHUB_API_URL"] == "http://hub.aks-runbook-hub.svc:8081/hub/api"
    assert container["volumeMounts"] == [{"name": "aks-runbook-attendee",
                                          "mountPath": "/etc/aks-runbook", "readOnly": True}]
    assert spec["volumes"] == [{"name": "aks-runbook-attendee", "secret": {
        "secretName": "aks-runbook-attendee", "defaultMode": 0o440}}]
    assert pod["metadata"]["labels"]["component"] == "singleuser-server"  # the policies' select


# --- on the local cluster: a freshly provisioned attendee namespace -------------------------

@pytest.fixture(scope="module")
def attendee(local_cluster, tmp_path_factory):
    """A class of one, provisioned like `training provision` does, torn down afterwards."""
    folder = tmp_path_factory.mktemp("hub-class") / "training"
    name = f"hv{uuid.uuid4().hex[:6]}"
    access = credentials.ClusterAccess.from_kubeconfig(local_cluster.kubeconfig)
    provision.provision(local_cluster.api(), [Attendee(name)], folder, access, LOCAL,
                        expiry=3600)
    yield SimpleNamespace(name=name, namespace=f"training-{name}", folder=folder)
    provision.teardown(local_cluster.api(), folder)


def _create_pod(k8s, namespace: str, pod: dict):
    return k8s.CoreV1Api().create_namespaced_pod(namespace, pod, dry_run="All")


def _refusal(call) -> str:
    with pytest.raises(ApiException) as refused:
        call()
    assert refused.value.status in (403, 422), refused.value.body
    return json.loads(refused.value.body)["message"]


def test_the_attendee_pod_is_admitted(attendee, k8s, kubeconfig_env):
    namespace, pod = render_pod(_class_values(), attendee.name)
    assert namespace == attendee.namespace
    created = _create_pod(k8s, namespace, pod)  # Pod Security restricted, LimitRange, quota
    assert created.metadata.namespace == namespace
    requests = created.spec.containers[0].resources.requests
    assert {k: parse_quantity(v) for k, v in requests.items()} == {"cpu": 1, "memory": 2**30}
    assert k8s.CoreV1Api().list_namespaced_pod(namespace).items == []  # a dry run


def _without_security_context(pod: dict) -> dict:
    del pod["spec"]["containers"][0]["securityContext"]
    return pod


def _cpu(pod: dict, cores: str) -> dict:
    pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cores},
                                                 "limits": {"cpu": cores}}
    return pod


def _three_servers(pod: dict) -> dict:
    container = pod["spec"]["containers"][0]
    pod["spec"]["containers"] = [{**container, "name": f"notebook{n}", "resources": {
        "requests": {"cpu": "2"}, "limits": {"cpu": "2"}},
        "ports": [{"containerPort": 8888 + n}]} for n in range(3)]
    return pod


@pytest.mark.parametrize("change, reason", [
    (_without_security_context,
     r'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false .*'
     r'unrestricted capabilities .*runAsNonRoot != true .*seccompProfile'),
    (lambda pod: _cpu(pod, "3"), r"maximum cpu usage per Container is 2, but limit is 3"),
    (_three_servers, r"exceeded quota: training, requested: requests\.cpu=6, used: "
                     r"requests\.cpu=0, limited: requests\.cpu=4"),
], ids=["no-security-context", "above-the-limit-range", "above-the-quota"])
def test_the_dry_run_refuses_a_pod_the_namespace_forbids(attendee, k8s, kubeconfig_env, change,
                                                          reason):
    namespace, pod = render_pod(_class_values(), attendee.name)
    message = _refusal(lambda: _create_pod(k8s, namespace, change(pod)))
    assert re.search(reason, message), message


def _apply(k8s, body: dict):
    """Server-side apply as a dry run, as `kubectl apply --server-side --dry-run=server`."""
    dynamic = DynamicClient(k8s.api_client)
    resource = dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    return resource.server_side_apply(body=body, name=body["metadata"]["name"],
                                      namespace=body["metadata"].get("namespace"),
                                      field_manager="aks-runbook-test", dry_run="All")


def _objects(attendee) -> list[dict]:
    home = attendee.folder / attendee.name
    return hub_values.attendee_objects(attendee.name, (home / "kubeconfig").read_text(),
                                       (home / "environment.yaml").read_text())


def test_the_attendee_objects_and_the_hubs_read_are_admitted(attendee, k8s):
    objects = [o for o in _objects(attendee) if o["kind"] != "RoleBinding"]
    assert [o["kind"] for o in objects] == ["Secret", "NetworkPolicy", "Role"]
    for body in objects + hub_values.hub_objects():
        applied = _apply(k8s, body)
        assert applied.metadata.name == body["metadata"]["name"]
    secret = objects[0]["data"]
    environment = yaml.safe_load(base64.b64decode(secret["environment.yaml"]))
    assert environment["kubeconfig"] == "/etc/aks-runbook/kubeconfig"
    assert environment["namespace"] == attendee.namespace
    kubeconfig = (attendee.folder / attendee.name / "kubeconfig").read_text()
    assert base64.b64decode(secret["kubeconfig"]).decode() == kubeconfig


def test_the_hubs_role_binding_is_admitted_for_the_trainer_and_refused_for_an_attendee(
        attendee, k8s):
    binding, = [o for o in _objects(attendee) if o["kind"] == "RoleBinding"]
    _apply(k8s, binding)  # the trainer (the cluster's admin)
    # The attendee binds a Role they hold (so RBAC's escalation check lets it through) to the
    # hub's account: the policy refuses it.
    own = {**binding, "metadata": {**binding["metadata"], "name": "hub-by-attendee"},
           "roleRef": {**binding["roleRef"], "name": provision.ACCOUNT}}
    as_attendee = attendee_client(attendee.folder, attendee.name)
    with pytest.raises(ApiException) as refused:
        as_attendee.RbacAuthorizationV1Api().create_namespaced_role_binding(
            own["metadata"]["namespace"], own, dry_run="All")
    assert "aks-runbook-training-own-subjects" in str(refused.value.body)
    assert "ServiceAccount aks-runbook-hub/hub" in str(refused.value.body)


def test_the_network_policy_admits_only_the_hub_and_the_proxy(attendee):
    policy, = [o for o in _objects(attendee) if o["kind"] == "NetworkPolicy"]
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"component": "singleuser-server"}}
    source, = spec["ingress"][0]["from"]
    assert source["namespaceSelector"] == {"matchLabels": {
        "kubernetes.io/metadata.name": "aks-runbook-hub"}}
    assert source["podSelector"]["matchExpressions"][0]["values"] == ["hub", "proxy"]
    assert spec["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8888}]
    hub_rule, api_rule = spec["egress"]
    assert hub_rule["ports"] == [{"protocol": "TCP", "port": 8081}]
    server = yaml.safe_load((attendee.folder / attendee.name / "kubeconfig").read_text())[
        "clusters"][0]["cluster"]["server"]
    host_port = server.split("//")[1]
    assert api_rule == {"to": [{"ipBlock": {"cidr": f"{host_port.rsplit(':', 1)[0]}/32"}}],
                        "ports": [{"protocol": "TCP", "port": int(host_port.rsplit(':')[1])}]}


# --- write() ----------------------------------------------------------------------------

def test_write_reads_the_provisioned_class(attendee, tmp_path, validator):
    out = tmp_path / "hub" / "values.yaml"
    paths = hub_values.write(attendee.folder, out, IMAGE)
    password = tmp_path / "hub" / "values-trainer-password.txt"
    objects_path = tmp_path / "hub" / "values-attendees.yaml"
    assert paths == [out, objects_path, password]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    chart_values = yaml.safe_load(out.read_text())
    assert list(validator.iter_errors(chart_values)) == []
    shipped = json.loads(chart_values["hub"]["extraFiles"]["aks-runbook-logins"]["stringData"])
    assert set(shipped["attendees"]) == {attendee.name}
    admin = chart_values["hub"]["config"]["RosterAuthenticator"]["admin_login"]
    stored = json.loads((attendee.folder / "logins.json").read_text())["attendees"]
    assert shipped["attendees"][attendee.name] == stored[attendee.name]
    from aks_runbook.training.hub.authenticator import matches
    assert matches(password.read_text().strip(), admin)
    kinds = [(o["kind"], o["metadata"].get("namespace")) for o in
             yaml.safe_load_all(objects_path.read_text())]
    assert kinds == [("ClusterRole", None), ("ClusterRoleBinding", None)] + [
        (kind, attendee.namespace) for kind in ("Secret", "NetworkPolicy", "Role",
                                                "RoleBinding")]
    again = hub_values.write(attendee.folder, out, IMAGE)
    assert again == [out, objects_path]  # the trainer's password is kept
    assert matches(password.read_text().strip(), yaml.safe_load(out.read_text())["hub"][
        "config"]["RosterAuthenticator"]["admin_login"])


def test_write_says_what_is_missing(tmp_path):
    out = tmp_path / "values.yaml"
    with pytest.raises(hub_values.HubValuesError, match=r"training folder .*nowhere: not found"):
        hub_values.write(tmp_path / "nowhere", out, IMAGE)
    folder = tmp_path / "training"
    folder.mkdir()
    with pytest.raises(hub_values.HubValuesError, match=r"no provisioned attendees"):
        hub_values.write(folder, out, IMAGE)
    (folder / "alice").mkdir()
    (folder / "alice" / "kubeconfig").write_text("clusters: []\n")
    with pytest.raises(hub_values.HubValuesError, match=r"alice: has only one of kubeconfig"):
        hub_values.write(folder, out, IMAGE)
    (folder / "alice" / "environment.yaml").write_text("namespace: training-alice\n")
    (folder / "logins.json").write_text("{not json")
    with pytest.raises(hub_values.HubValuesError, match=r"logins\.json: not the logins"):
        hub_values.write(folder, out, IMAGE)
    (folder / "logins.json").unlink()
    with pytest.raises(hub_values.HubValuesError, match=r"--admin-password-file .*absent"):
        hub_values.write(folder, out, IMAGE, admin_password_file=tmp_path / "absent")
    with pytest.raises(hub_values.HubValuesError, match=r"alice: cannot read the kubeconfig"):
        hub_values.write(folder, out, IMAGE)
    assert not out.exists()
