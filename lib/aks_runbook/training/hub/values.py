"""The class on AKS: Zero to JupyterHub values, and what each attendee namespace needs for the
hub besides provisioning. Checked against the chart's source (CHART_VERSION) and KubeSpawner
7.1.0's code (the chart's hub image runs 7.0.0: the pod it makes is the same).

- One namespace per attendee: KubeSpawner's `enable_user_namespaces`, `user_namespace_template`
  "training-{username}" ({username} is KubeSpawner's safe slug of the name; a roster name, 2-10
  lower-case letters or digits, is its own slug). KubeSpawner would create the namespace at
  every start (a cluster-wide `create namespaces`, 409 ignored); the spawner here
  (SPAWNER_CONFIG) never does: a namespace is provisioned with its Pod Security labels, quota,
  limits and policies, and a missing one fails the spawn instead of appearing without them.
- What KubeSpawner calls: with user namespaces its reflectors list and watch pods and events
  in all namespaces (`list_pod_for_all_namespaces`, `list_event_for_all_namespaces`; the hub
  exits if they fail): hub_objects(). In an attendee's namespace, `create_namespaced_pod` and
  `delete_namespaced_pod` only (no PVC: storage none and `delete_pvc` off; no Secret or
  Service: `internal_ssl` and `services_enabled` off): attendee_objects()'s Role.
- The pod's identity is no service account token at all (automount off, the namespace's
  `default` account): the attendee's kubeconfig, from the Secret `aks-runbook-attendee`, holds
  the `attendee` account's token with the lifetime provisioning gave it. A mounted token of
  that account would be renewed by the kubelet as long as the pod runs, past the expiry.
- Pod Security `restricted`: non-root uid/gid, no privilege escalation, every capability
  dropped, the RuntimeDefault seccomp profile. The chart's cloud-metadata init container
  (iptables, NET_ADMIN, root) is off: the namespace's default-deny egress blocks the metadata
  endpoint instead (where the cluster enforces NetworkPolicies), since the pod's own allows
  name only DNS, the hub and the API server.
- Requests equal limits (cpu, memory), within the namespace's LimitRange and quota; no
  storage (the home is the image's: work is lost when the server stops or is culled).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import secrets
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from kubernetes.utils import parse_quantity

from aks_runbook import manifests
from aks_runbook.training import MANAGED_BY, credentials, logins, namespace_of
from aks_runbook.training.hub.authenticator import TRAINER_SCOPES
from aks_runbook.training.roster import NAME, NAME_RULE, TRAINER

CHART = "jupyterhub/jupyterhub"
CHART_VERSION = "4.4.0"
HUB_NAMESPACE = "aks-runbook-hub"  # never an attendee's: theirs all start with "training-"
HUB_ACCOUNT = "hub"  # the chart's hub service account (fullnameOverride "")
HUB_PORT = 8081
SERVER_PORT = 8888  # KubeSpawner's port
ADMIN = TRAINER
UID, GID = 1000, 100  # tools/hub/Dockerfile's user
SECRET = "aks-runbook-attendee"
PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
MOUNT = "/etc/aks-runbook"
HOME = "/home/jovyan"  # tools/hub/Dockerfile's user's home
NOTEBOOKS = "/opt/aks-runbook/notebooks"  # the image's copy of notebooks/
# The home made as on the local hub (workspace.py): the notebooks with the attendee's
# parameters injected and their kubeconfig, from the Secret; then the single-user server.
COMMAND = ["python", "-m", "aks_runbook.training.hub.workspace", MOUNT, NOTEBOOKS, "--",
           "jupyterhub-singleuser"]
CONFIG_DIR = "/usr/local/etc/jupyterhub"  # the chart's config folder, on the hub's sys.path
AUTHENTICATOR_MODULE = "aks_runbook_authenticator"
LOGINS_PATH = f"{CONFIG_DIR}/aks-runbook/logins.json"
SINGLEUSER = {"component": "singleuser-server"}  # KubeSpawner's label on the pods it makes
TRAINING_NAMESPACES = {"app.kubernetes.io/managed-by": MANAGED_BY}
LABELS = {"app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/component": "hub"}

SPAWNER_CONFIG = '''\
# aks-runbook training: the attendees' namespaces are made by `aks-runbook training provision`
# (Pod Security restricted, quota, limits, NetworkPolicies); the spawner never creates one.
from kubespawner import KubeSpawner


class TrainingKubeSpawner(KubeSpawner):
    async def _ensure_namespace(self):
        self.log.info("namespace %s: provisioned by aks-runbook, not created", self.namespace)


c.JupyterHub.spawner_class = TrainingKubeSpawner
'''


class HubValuesError(ValueError):
    """The class cannot be written; the message names the file or option and what to do."""


def values(attendees: list[str], image: str, *, idle_timeout: int = 3600, cpu: str = "1",
           memory: str = "1Gi", hub_namespace: str = HUB_NAMESPACE,
           attendee_logins: dict[str, dict] | None = None,
           admin_login: dict | None = None) -> dict[str, Any]:
    """The chart's values for the class. attendee_logins: name -> scrypt entry (logins.json's
    "attendees"; an attendee without one cannot log in); admin_login: the trainer's entry."""
    _check_names(attendees)
    _check_namespace(hub_namespace)
    name, tag = _image(image)
    if idle_timeout < 60:
        raise HubValuesError(f"--idle-timeout {idle_timeout}: at least 60 seconds")
    cores, memory_bytes = _resources(cpu, memory)
    known = {a: attendee_logins[a] for a in attendees if a in (attendee_logins or {})}
    training_pods = {"namespaceSelector": {"matchLabels": dict(TRAINING_NAMESPACES)},
                     "podSelector": {"matchLabels": dict(SINGLEUSER)}}
    to_servers = {"to": [training_pods], "ports": [{"port": SERVER_PORT, "protocol": "TCP"}]}
    authenticator = Path(__file__).with_name("authenticator.py").read_text()
    return {
        "hub": {
            "config": {
                "JupyterHub": {"authenticator_class":
                               f"{AUTHENTICATOR_MODULE}.RosterAuthenticator"},
                "RosterAuthenticator": {"logins_file": LOGINS_PATH, "admin_name": ADMIN,
                                        # the proxy pod's address is the cluster's to choose
                                        "proxy_networks": PRIVATE_NETWORKS,
                                        **({"admin_login": admin_login} if admin_login else {})},
                "KubeSpawner": {
                    "enable_user_namespaces": True,
                    "user_namespace_template": namespace_of("{username}"),
                    # the pods are in other namespaces: the hub's Service by its full name
                    "hub_connect_url": f"http://hub.{hub_namespace}.svc:{HUB_PORT}",
                    "automount_service_account_token": False,
                    "delete_pvc": False,
                    "gid": GID,
                    "container_security_context": {
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                },
            },
            # z2jh keeps extraFiles in the hub's Secret and mounts each file (subPath)
            "extraFiles": {
                "aks-runbook-authenticator": {
                    "mountPath": f"{CONFIG_DIR}/{AUTHENTICATOR_MODULE}.py",
                    "stringData": authenticator},
                "aks-runbook-logins": {
                    "mountPath": LOGINS_PATH, "mode": 0o440,
                    "stringData": json.dumps({"attendees": known}, indent=1, sort_keys=True)},
            },
            "extraConfig": {"aks-runbook-spawner": SPAWNER_CONFIG},
            # the trainer sees, starts and stops every server but opens none (no admin role)
            "loadRoles": {"trainer": {"users": [ADMIN], "scopes": TRAINER_SCOPES}},
            # the chart's own rules name pods of the hub's namespace only
            "networkPolicy": {
                "ingress": [{"from": [training_pods],
                             "ports": [{"port": HUB_PORT, "protocol": "TCP"}]}],
                "egress": [to_servers]},
        },
        "proxy": {"chp": {"networkPolicy": {"egress": [to_servers]}}},
        "singleuser": {
            "image": {"name": name, "tag": tag},
            "uid": UID,
            "fsGid": GID,
            "allowPrivilegeEscalation": False,
            "serviceAccountName": None,
            "cloudMetadata": {"blockWithIptables": False, "ip": "169.254.169.254"},
            # its rules select pods of the hub's namespace; attendee_objects() has theirs
            "networkPolicy": {"enabled": False},
            "cpu": {"limit": cores, "guarantee": cores},
            "memory": {"limit": memory_bytes, "guarantee": memory_bytes},
            "storage": {
                "type": "none",
                "extraVolumes": [{"name": SECRET,
                                  "secret": {"secretName": SECRET, "defaultMode": 0o440}}],
                "extraVolumeMounts": [{"name": SECRET, "mountPath": MOUNT, "readOnly": True}],
            },
            "extraEnv": {"KUBECONFIG": f"{HOME}/kubeconfig"},
            "cmd": COMMAND,
            "defaultUrl": "/lab",
        },
        # the default scheduler places the class; the user-scheduler only packs nodes
        "scheduling": {"userScheduler": {"enabled": False}},
        "cull": {"enabled": True, "timeout": idle_timeout, "every": min(600, idle_timeout),
                 "users": False},
    }


def attendee_objects(attendee: str, kubeconfig_text: str, environment_text: str,
                     hub_namespace: str = HUB_NAMESPACE, *,
                     api_server_cidrs: list[str] | None = None) -> list[dict]:
    """The Secret with the attendee's kubeconfig and environment file (its kubeconfig path
    set to the mount), the NetworkPolicy between the hub, the proxy and the attendee's pod,
    and the hub account's Role and RoleBinding. api_server_cidrs: the API server's addresses
    (default: the kubeconfig's server, resolved now)."""
    _check_names([attendee])
    _check_namespace(hub_namespace)
    namespace = namespace_of(attendee)
    try:
        server = yaml.safe_load(kubeconfig_text)["clusters"][0]["cluster"]["server"]
        environment = yaml.safe_load(environment_text)
    except (yaml.YAMLError, KeyError, IndexError, TypeError) as error:
        raise HubValuesError(f"{attendee}: cannot read the kubeconfig or environment file: "
                             f"{error}") from None
    if not isinstance(environment, dict) or environment.get("namespace") != namespace:
        raise HubValuesError(f"{attendee}: the environment file's namespace is not "
                             f"{namespace}: provision the attendee again")
    environment["kubeconfig"] = f"{MOUNT}/kubeconfig"
    environment_text = ("# Your parameters for this training (in your JupyterLab's pod).\n"
                        + yaml.safe_dump(environment, sort_keys=False))
    cidrs, port = _api_server(server, api_server_cidrs)
    meta = {"namespace": namespace, "labels": dict(LABELS)}
    hub_pods = {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": hub_namespace}}}
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET, **meta},
         "type": "Opaque", "data": {
             "kubeconfig": base64.b64encode(kubeconfig_text.encode()).decode(),
             "environment.yaml": base64.b64encode(environment_text.encode()).decode()}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "training-allow-hub", **meta},
         "spec": {
             "podSelector": {"matchLabels": dict(SINGLEUSER)},
             "policyTypes": ["Ingress", "Egress"],
             "ingress": [{"from": [{**hub_pods, "podSelector": {"matchExpressions": [
                 {"key": "component", "operator": "In", "values": ["hub", "proxy"]}]}}],
                 "ports": [{"protocol": "TCP", "port": SERVER_PORT}]}],
             "egress": [
                 {"to": [{**hub_pods, "podSelector": {"matchLabels": {"component": "hub"}}}],
                  "ports": [{"protocol": "TCP", "port": HUB_PORT}]},
                 {"to": [{"ipBlock": {"cidr": cidr}} for cidr in cidrs],
                  "ports": [{"protocol": "TCP", "port": port}]}]}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "aks-runbook-hub", **meta},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "aks-runbook-hub", **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "aks-runbook-hub"},
         "subjects": [{"kind": "ServiceAccount", "name": HUB_ACCOUNT,
                       "namespace": hub_namespace}]},
    ]


def hub_objects(hub_namespace: str = HUB_NAMESPACE) -> list[dict]:
    """KubeSpawner's reflectors with user namespaces: pods and events of every namespace, read
    only (list, watch)."""
    _check_namespace(hub_namespace)
    name = f"{hub_namespace}-reflectors"
    meta = {"name": name, "labels": dict(LABELS)}
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta,
         "rules": [{"apiGroups": [""], "resources": ["pods", "events"],
                    "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": HUB_ACCOUNT,
                       "namespace": hub_namespace}]},
    ]


def write(folder: Path, out: Path, image: str, *, idle_timeout: int = 3600, cpu: str = "1",
          memory: str = "1Gi", hub_namespace: str = HUB_NAMESPACE,
          admin_password_file: Path | None = None,
          api_server_cidrs: list[str] | None = None) -> list[Path]:
    """Read the provisioned attendees of folder (training/), write the values to out and the
    objects to <out>-attendees.yaml (both 0600), and return their paths. The trainer's
    password is read from admin_password_file, else from <out>-trainer-password.txt, made
    (0600, and returned too) if missing."""
    folder, out = Path(folder), Path(out)
    homes = _attendee_folders(folder)
    attendee_logins = _logins(folder)
    password_path = Path(admin_password_file) if admin_password_file else \
        out.with_name(f"{out.stem}-trainer-password.txt")
    written = []
    if not admin_password_file and not password_path.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_private(password_path, secrets.token_urlsafe(12) + "\n")
        written.append(password_path)
    password = _read(password_path, "--admin-password-file").strip()
    if not password:
        raise HubValuesError(f"{password_path}: empty (the trainer's password)")
    chart_values = values(sorted(homes), image, idle_timeout=idle_timeout, cpu=cpu,
                          memory=memory, hub_namespace=hub_namespace,
                          attendee_logins=attendee_logins, admin_login=logins.entry(password))
    objects = list(hub_objects(hub_namespace))
    for attendee, home in sorted(homes.items()):
        objects += attendee_objects(attendee, _read(home / "kubeconfig"),
                                    _read(home / "environment.yaml"), hub_namespace,
                                    api_server_cidrs=api_server_cidrs)
    missing = sorted(set(homes) - set(attendee_logins))
    objects_path = out.with_name(f"{out.stem}-attendees{out.suffix or '.yaml'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_private(out, _header(len(homes), missing, objects_path)
                              + yaml.dump(chart_values, Dumper=_Dumper, sort_keys=False,
                                          width=100))
    credentials.write_private(objects_path, (
        "# Each attendee's Secret (kubeconfig: a token), NetworkPolicy, Role and RoleBinding\n"
        "# for the hub, and the hub's read of pods and events. Private: `kubectl apply -f`.\n"
        + yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, width=100)))
    return [out, objects_path, *written]


def _header(count: int, missing: list[str], objects_path: Path) -> str:
    lines = [f"Zero to JupyterHub {CHART_VERSION} values for {count} attendee(s), written by "
             f"aks-runbook.",
             "Private (password hashes): `helm upgrade --install ... --values` this file; "
             f"apply {objects_path.name} first."]
    if missing:
        lines.append(f"No hub login (logins.json) for: {', '.join(missing)}: they cannot log "
                     f"in until `training provision` and this command run again.")
    return "".join(f"# {line}\n" for line in lines)


def _attendee_folders(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise HubValuesError(f"training folder {folder}: not found: run `aks-runbook training "
                             f"provision` first")
    homes = {}
    for home in sorted(p for p in folder.iterdir() if p.is_dir()):
        has = [(home / n).is_file() for n in ("kubeconfig", "environment.yaml")]
        if any(has) and not all(has):
            raise HubValuesError(f"{home}: has only one of kubeconfig and environment.yaml: "
                                 f"run `aks-runbook training provision` again")
        if all(has):
            homes[home.name] = home
    if not homes:
        raise HubValuesError(f"training folder {folder}: no provisioned attendees (no "
                             f"<name>/kubeconfig): run `aks-runbook training provision` first")
    return homes


def _logins(folder: Path) -> dict[str, dict]:
    path = folder / logins.LOGINS
    if not path.exists():
        return {}
    try:
        attendees = json.loads(_read(path))["attendees"]
        if not isinstance(attendees, dict):
            raise TypeError("'attendees' is not a mapping")
    except (ValueError, KeyError, TypeError) as error:
        raise HubValuesError(f"{path}: not the logins `training provision` writes: "
                             f"{error}") from None
    return attendees


def _read(path: Path, option: str | None = None) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        where = f"{option} {path}" if option else str(path)
        raise HubValuesError(f"{where}: cannot read it: {error}") from None


def _check_names(attendees: list[str]) -> None:
    if not attendees:
        raise HubValuesError("no attendees: run `aks-runbook training provision` first")
    for name in attendees:
        if not NAME.fullmatch(name):
            raise HubValuesError(f"attendee {name!r}: must be {NAME_RULE}")
        if name == ADMIN:
            raise HubValuesError(f"attendee {name!r}: is the trainer's login on the hub; "
                                 f"rename the attendee in the roster")


def _check_namespace(namespace: str) -> None:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace) or \
            namespace.startswith(namespace_of("")):
        raise HubValuesError(f"--hub-namespace {namespace!r}: a namespace name (lower-case "
                             f"letters, digits, '-') not starting with {namespace_of('')!r}")


def _image(image: str) -> tuple[str, str]:
    """name:tag (or name:tag@digest) -> (name, tag): the chart joins them with ':'."""
    reference, at, digest = image.partition("@")
    name, colon, tag = reference.rpartition(":")
    if not colon or not name or not tag or "/" in tag:
        raise HubValuesError(f"--image {image!r}: give a tag (registry/name:tag), e.g. "
                             f"myregistry.azurecr.io/aks-runbook-hub:1")
    return name, tag + at + digest


def _limits() -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The LimitRange's per-container maximum and the quota's hard limits, from the template
    provisioning applies."""
    docs = manifests.render("training-namespace", namespace="x", attendee="x", folder_id="x",
                            token_seconds="600", external_services="refused")
    limit_range = next(d for d in docs if d["kind"] == "LimitRange")
    quota = next(d for d in docs if d["kind"] == "ResourceQuota")
    maximum = limit_range["spec"]["limits"][0]["max"]
    return ({k: parse_quantity(v) for k, v in maximum.items()},
            {k: parse_quantity(v) for k, v in quota["spec"]["hard"].items()
             if k.startswith(("requests.", "limits."))})


def _resources(cpu: str, memory: str) -> tuple[int | float, int]:
    """(cores, bytes) as the chart wants them, if they fit one attendee namespace."""
    maximum, quota = _limits()
    parsed = {}
    for option, kind, value in (("--cpu", "cpu", cpu), ("--memory", "memory", memory)):
        try:
            amount = parse_quantity(value)
        except ValueError:
            raise HubValuesError(f"{option} {value!r}: not a Kubernetes quantity (e.g. "
                                 f"{'500m or 1' if kind == 'cpu' else '512Mi or 1Gi'})") from None
        most = min(maximum[kind], quota[f"requests.{kind}"], quota[f"limits.{kind}"])
        if not 0 < amount <= most:
            raise HubValuesError(f"{option} {value}: must be more than 0 and at most "
                                 f"{_quantity(most, kind)} (the attendee namespace's "
                                 f"LimitRange maximum and quota)")
        parsed[kind] = amount
    cores = parsed["cpu"]
    return (int(cores) if cores == int(cores) else float(cores)), int(parsed["memory"])


def _quantity(amount: Decimal, kind: str) -> str:
    if kind == "memory" and amount % 2**30 == 0:
        return f"{int(amount / 2**30)}Gi"
    return str(amount.normalize())


def _api_server(server: str, cidrs: list[str] | None) -> tuple[list[str], int]:
    """The API server's addresses (CIDRs) and port, for the pod's egress rule."""
    parsed = urlparse(server)
    port = parsed.port or 443
    if cidrs:
        try:
            return [str(ipaddress.ip_network(c, strict=False)) for c in cidrs], port
        except ValueError as error:
            raise HubValuesError(f"--api-server-cidr: {error}") from None
    host = parsed.hostname or ""
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as error:
            raise HubValuesError(f"the API server {host}: cannot resolve it ({error}); give "
                                 f"its addresses with --api-server-cidr") from None
        addresses = {ipaddress.ip_address(info[4][0]) for info in found}
    return sorted(str(ipaddress.ip_network(a)) for a in addresses), port


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the authenticator's source, the spawner's config) as blocks."""


def _block(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _block)
