"""Offline answers to the HTTP requests azure-cli's handlers send (used by azure.offline's worker).

Each request gets one decision:

- ``Reached``: the request the command exists for (a write to ARM, a data plane or Microsoft
  Graph; or, for a read command, the read it exists for). The check ends there, passed.
- ``Answer``: a lookup the handler needs to go on. Answered from what an earlier line of the
  same validation run created (the body of the PUT it reached: an honest answer), else with a
  plausible placeholder (``placeholder`` says how much the handler may depend on it:
  ``"exists"`` when only the resource's existence matters, ``"shape"`` when the handler
  compares the line with the resource's properties).
- ``Refused``: a call the offline answers cannot honestly model; the check ends early.

No azure-cli import here: the decisions are plain functions of the request and the run's state.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

ZERO = "00000000-0000-0000-0000-000000000000"
ARM = "management.azure.com"
GRAPH = "graph.microsoft.com"

# POST actions that read (list credentials, keys, availability …) rather than change anything.
READ_POSTS = ("list", "checknameavailability", "getbyids", "getmemberobjects",
              "getmembergroups", "checkmembergroups", "getavailable")

# Built-in Azure roles by name (Microsoft Learn, "Azure built-in roles"): a role assignment by
# name looks its definition up first. A name not listed may be a custom role: not modelled.
BUILTIN_ROLES = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Managed Identity Contributor": "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Certificates Officer": "a4417e6f-fecd-4de8-b567-7b0420556985",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Azure Kubernetes Service Cluster Monitoring User": "1afdec4b-e479-420e-99e7-f82237c7c5e6",
    "Azure Kubernetes Service Contributor Role": "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Monitoring Reader": "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
    "Monitoring Contributor": "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
    "Monitoring Data Reader": "b0d8363b-8ddd-447d-831f-62ca05bff136",
    "Log Analytics Contributor": "92aaf0da-9dab-42b6-94a3-d43ce8d16293",
    "Log Analytics Reader": "73c42c96-874c-492b-b04d-ab87d138a893",
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Grafana Admin": "22926164-76b3-42b3-bc55-97df8dab3e41",
    "Azure Kubernetes Fleet Manager RBAC Cluster Admin": "18ab4d3d-a1bf-4477-8ad9-8359bc988f69",
}
_ROLE_BY_ID = {guid: name for name, guid in BUILTIN_ROLES.items()}


@dataclass
class Reached:
    call: str


@dataclass
class Refused:
    call: str
    why: str = ""


@dataclass
class Answer:
    status: int
    body: dict
    placeholder: str | None = None  # None: honest (from this run); "exists" or "shape"


@dataclass
class RunState:
    """ARM resources that earlier lines of one validation run created: id (lower) -> body."""

    resources: dict[str, dict] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)  # resource group -> location

    def record(self, path: str, body: dict) -> None:
        low = path.lower()
        for child in [r for r in self.resources if r.startswith(low + "/")]:
            del self.resources[child]  # created again: what was under it is gone
        body = dict(body)
        body.setdefault("id", path)
        body.setdefault("name", path.split("/")[-1])
        self.resources[low] = body
        if re.search(r"/virtualnetworks/[^/]+$", low):  # subnets created with their VNET
            for subnet in (body.get("properties") or {}).get("subnets") or []:
                if subnet.get("name"):
                    self.resources[f"{low}/subnets/{subnet['name'].lower()}"] = {
                        "id": f"{path}/subnets/{subnet['name']}", **subnet}
        if re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/[^/]+", low) and body.get(
                "location"):
            self.locations[low.split("/")[4]] = body["location"]
        # a subnet created on its own also appears in its VNET
        vnet = re.fullmatch(r"(.*/virtualnetworks/[^/]+)/subnets/[^/]+", low)
        if vnet and vnet.group(1) in self.resources:
            props = self.resources[vnet.group(1)].setdefault("properties", {})
            subnets = [s for s in props.get("subnets", [])
                       if s.get("name", "").lower() != body["name"].lower()]
            props["subnets"] = [*subnets, body]

    def created(self, low: str) -> dict | None:
        return self.resources.get(low)

    def children(self, low: str) -> list[dict]:
        prefix = low + "/"
        return [body for rid, body in self.resources.items()
                if rid.startswith(prefix) and "/" not in rid[len(prefix):]]

    def address_spaces(self) -> list[tuple[str, list[str]]]:
        """(id, address prefixes) of every VNET and subnet the run created."""
        found = []
        for rid, body in self.resources.items():
            props = body.get("properties") or {}
            if re.search(r"/virtualnetworks/[^/]+$", rid):
                found.append((body["id"], list((props.get("addressSpace") or {}).get(
                    "addressPrefixes") or [])))
                for subnet in props.get("subnets") or []:
                    sp = subnet.get("properties") or {}
                    prefixes = sp.get("addressPrefixes") or [sp.get("addressPrefix")]
                    found.append((f"{body['id']}/subnets/{subnet.get('name')}",
                                  [p for p in prefixes if p]))
            elif re.search(r"/subnets/[^/]+$", rid):
                prefixes = props.get("addressPrefixes") or [props.get("addressPrefix")]
                found.append((body["id"], [p for p in prefixes if p]))
        return found


def is_read_command(command: str) -> bool:
    """show, list, get-*, list-*, exists, wait: commands that exist to read."""
    last = command.split(" ")[-1]
    return last in ("show", "list", "exists", "wait", "browse") or last.startswith(
        ("show-", "list-", "get-"))


def is_write(method: str, low_path: str) -> bool:
    if method in ("PUT", "PATCH", "DELETE"):
        return True
    if method == "POST":
        return not low_path.rsplit("/", 1)[-1].startswith(READ_POSTS)
    return False


def _helper_lookup(command: str, host: str, low: str) -> bool:
    """A lookup a read command makes to go on, not the read it exists for."""
    if host == GRAPH:
        return not command.startswith("ad ")
    if re.search(r"/providers/microsoft\.authorization/roledefinitions(/[^/]+)?$", low):
        return not command.startswith("role definition")
    if re.fullmatch(r"/subscriptions/[^/]+", low):
        return not command.startswith("account")
    if re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/[^/]+", low):
        return not command.startswith("group")
    return False


def decide(method: str, url: str, body: bytes | str | None, command: str | None,
           run: RunState, location: str, variant: int = 0, names: tuple[str, ...] = (),
           made_up: bool = False) -> Reached | Answer | Refused:
    """`made_up`: the line already read a placeholder shaped resource, so what it writes is
    partly made up and is not kept as the run's state."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = unquote(parts.path).rstrip("/")
    low = path.lower()
    call = f"{method} {parts.netloc}{path}"
    if command is not None and is_write(method, low):
        if host == ARM and method == "PUT" and (not made_up or run.created(low) is not None):
            run.record(path, _json(body))
        return Reached(call)
    if method not in ("GET", "HEAD", "POST"):
        return Refused(call)
    lookup = "GET" if method == "HEAD" else method
    if command is not None and is_read_command(command) and not _helper_lookup(
            command, host, low):
        return Reached(call)
    if host == ARM and method in ("GET", "HEAD") and _creates(command, path, names, run):
        # a create looking up what it is about to create: not there yet
        return Answer(404, _not_found(path.split("/")[-2], path.split("/")[-1]), "exists")
    if host == ARM:
        answer = _arm_lookup(lookup, path, low, parse_qs(parts.query), command, run, location,
                             variant)
    elif host == GRAPH:
        answer = _graph_lookup(method, low, _json(body))
    else:
        answer = None
    if answer is not None and method == "HEAD" and answer.status == 200:
        return Answer(204, {}, answer.placeholder)  # an existence check: "it exists"
    return answer if answer is not None else Refused(call)


def _creates(command: str | None, path: str, names: tuple[str, ...], run: RunState) -> bool:
    """A create looking up what it is about to create: its --name, or any resource under one
    that this run created (the run knows that parent's children)."""
    low = path.lower()
    if (command or "").split(" ")[-1] not in ("create", "add") or len(low.split("/")) <= 5:
        return False
    parts = low.split("/")
    if len(parts) % 2 == 0:  # a collection (…/agentPools), not one resource
        return False
    if re.fullmatch(r".*/providers/microsoft\.containerservice/managedclusters/[^/]+", low):
        return command == "aks create"  # other commands name the cluster with -n
    if re.search(r"/agentpools/[^/]+$", low) and command != "aks nodepool add":
        return False  # e.g. `aks nodepool manual-scale add -n POOL`: the pool is the parent
    if path.split("/")[-1] in (*names, "default"):  # singletons are named default
        # even if an earlier line created it: a second create of one name in a document is
        # usually an alternative to the first, not meant to run after it
        return True
    if run.created(low) is not None:
        return False
    return any("/".join(parts[:n]) in run.resources for n in range(len(parts) - 2, 5, -1))


def _json(body) -> dict:
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


# ---- ARM ---------------------------------------------------------------------------------

def _arm_lookup(method, path, low, query, command, run: RunState, location, variant):
    parts = path.split("/")
    name = parts[-1]
    if method == "POST":
        if low.endswith("/checknameavailability"):
            return Answer(200, {"nameAvailable": True}, "exists")
        return None  # credentials, keys: not modelled
    created = run.created(low)
    if created is not None:
        return Answer(200, _as_existing(low, created, run, location))
    rg = re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/([^/]+)", low)
    if re.fullmatch(r"/subscriptions/[^/]+", low):
        return Answer(200, {"id": path, "subscriptionId": name, "tenantId": ZERO,
                            "state": "Enabled", "displayName": "offline-validation"}, "exists")
    if rg:
        return Answer(200, {"id": path, "name": name, "type": "Microsoft.Resources/resourceGroups",
                            "location": location,
                            "properties": {"provisioningState": "Succeeded"}}, "exists")
    if low.endswith("/providers/microsoft.authorization/roledefinitions"):
        return _role_definitions(path, query)
    role = re.search(r"/providers/microsoft\.authorization/roledefinitions/([0-9a-f-]{36})$", low)
    if role and role.group(1) in _ROLE_BY_ID:
        return Answer(200, _role_definition(path.rsplit("/roleDefinitions/", 1)[0]
                                            if "/roleDefinitions/" in path else "",
                                            role.group(1)))
    if low.endswith("/providers/microsoft.authorization/roleassignments"):
        scope = path[: -len("/providers/Microsoft.Authorization/roleAssignments")]
        # The roles AKS grants before creating (subnet, kubelet identity) are in place already.
        return Answer(200, {"value": [_role_assignment(scope, BUILTIN_ROLES[r]) for r in
                                      ("Network Contributor", "Managed Identity Operator")]},
                      "shape")
    if re.search(r"/providers/microsoft\.managedidentity/userassignedidentities/[^/]+$", low):
        return Answer(200, {"id": path, "name": name, "location": location,
                            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                            "properties": {"principalId": ZERO, "clientId": ZERO,
                                           "tenantId": ZERO}}, "exists")
    if re.search(r"/providers/microsoft\.containerregistry/registries/[^/]+$", low):
        return Answer(200, {"id": path, "name": name, "location": location,
                            "type": "Microsoft.ContainerRegistry/registries",
                            "sku": {"name": "Standard"},
                            "properties": {"loginServer": f"{name.lower()}.azurecr.io",
                                           "adminUserEnabled": False}}, "exists")
    return _cluster_lookup(path, low, command, run, location, variant)


def _cluster_lookup(path, low, command, run: RunState, location, variant):
    match = re.search(r"/resourcegroups/([^/]+)/providers/microsoft\.containerservice/"
                      r"managedclusters/([^/]+)(/.*)?$", low)
    if not match:
        return None
    parts = path.split("/")
    group, cluster_name = parts[4], parts[8]
    cluster_low = low[: match.start(3)] if match.group(3) else low
    rest = match.group(3) or ""
    cluster = run.created(cluster_low)
    if command == "aks create" and not rest:
        return Answer(404, _not_found("managedClusters", cluster_name))
    if cluster is not None:  # created earlier in this run: honest answers
        pools = _pools(cluster_low, cluster, run)
        if rest == "/agentpools":
            return Answer(200, {"value": list(pools.values())})
        if re.fullmatch(r"/agentpools/[^/]+", rest):
            pool = pools.get(rest.split("/")[-1].lower())
            return (Answer(200, pool) if pool else
                    Answer(404, _not_found("agentPools", path.split("/")[-1])))
        if rest == "/maintenanceconfigurations":
            return Answer(200, {"value": run.children(low)})
        if re.fullmatch(r"/maintenanceconfigurations/[^/]+", rest):
            return Answer(404, _not_found("maintenanceConfigurations", path.split("/")[-1]))
        return None
    if not rest:
        return Answer(200, existing_cluster(group, cluster_name, location, variant), "shape")
    if rest == "/agentpools":
        return Answer(200, {"value": existing_cluster(group, cluster_name, location, variant)[
            "properties"]["agentPoolProfiles"]}, "shape")
    if re.fullmatch(r"/agentpools/[^/]+", rest):
        pool_name = path.split("/")[-1]
        if command == "aks nodepool add":
            return Answer(404, _not_found("agentPools", pool_name))
        pool = dict(_placeholder_pool(variant), name=pool_name)
        return Answer(200, {"id": path, "name": pool_name,
                            "properties": {k: v for k, v in pool.items() if k != "name"}},
                      "shape")
    if rest == "/maintenanceconfigurations":
        # `add` only needs the name to be free; `update` and `delete` need it to be there
        return Answer(200, {"value": []}, "exists" if (command or "").endswith(" add")
                      else "shape")
    return None


def _pools(cluster_low: str, cluster: dict, run: RunState) -> dict[str, dict]:
    """The agent pools of a cluster the run created: its profiles, then pools added later."""
    pools = {}
    for profile in (cluster.get("properties") or {}).get("agentPoolProfiles") or []:
        props = {k: v for k, v in profile.items() if k != "name"}
        props.setdefault("provisioningState", "Succeeded")
        props.setdefault("currentOrchestratorVersion", props.get("orchestratorVersion"))
        pools[profile["name"].lower()] = {
            "id": f"{cluster['id']}/agentPools/{profile['name']}", "name": profile["name"],
            "properties": props}
    for body in run.children(cluster_low + "/agentpools"):
        pools[body["name"].lower()] = body
    return pools


def _as_existing(low: str, body: dict, run: RunState, location: str) -> dict:
    """A created resource as ARM would show it afterwards."""
    body = copy.deepcopy(body)
    props = body.setdefault("properties", {})
    props.setdefault("provisioningState", "Succeeded")
    if re.search(r"/managedclusters/[^/]+$", low):
        group, name = body["id"].split("/")[4], body["name"]
        filled = existing_cluster(group, name, body.get("location") or location)
        for key, value in filled["properties"].items():
            if key not in props:
                props[key] = value
        props.setdefault("currentKubernetesVersion", props.get("kubernetesVersion"))
        props["agentPoolProfiles"] = [
            {"name": p["name"], **p["properties"]} for p in _pools(low, body, run).values()]
        body.setdefault("sku", filled["sku"])
        body.setdefault("identity", filled["identity"])
        if body["identity"].get("type") == "SystemAssigned":
            body["identity"].setdefault("principalId", ZERO)
            body["identity"].setdefault("tenantId", ZERO)
        if body["identity"].get("type") == "UserAssigned":
            for identity in (body["identity"].get("userAssignedIdentities") or {}).values():
                identity.setdefault("principalId", ZERO)
                identity.setdefault("clientId", ZERO)
    return body


def _placeholder_pool(variant: int) -> dict:
    pool = {"name": "nodepool1", "count": 3, "vmSize": "Standard_D4ds_v5", "osType": "Linux",
            "osSKU": "Ubuntu", "mode": "System", "type": "VirtualMachineScaleSets",
            "orchestratorVersion": "1.33", "currentOrchestratorVersion": "1.33.5",
            "maxPods": 110, "enableAutoScaling": False, "enableNodePublicIP": False,
            "provisioningState": "Succeeded", "powerState": {"code": "Running"}}
    if variant:  # the other shape: autoscaled, availability set, Azure Linux, user mode
        pool.update(enableAutoScaling=True, minCount=1, maxCount=5, osSKU="AzureLinux",
                    mode="User", maxPods=30, upgradeSettings={"maxSurge": "33%"},
                    type="AvailabilitySet")
    return pool


def existing_cluster(group: str, name: str, location: str, variant: int = 0) -> dict:
    """A plausible existing cluster (ARM JSON). Variant 1 is shaped differently (Entra ID with
    Azure RBAC, OIDC and workload identity, private, autoscaled) so that an error that
    depends on the cluster's shape shows up as a difference between the two."""
    rid = (f"/subscriptions/{ZERO}/resourcegroups/{group}/providers/"
           f"Microsoft.ContainerService/managedClusters/{name}")
    kubelet = (f"/subscriptions/{ZERO}/resourcegroups/MC_{group}_{name}_{location}/providers/"
               f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool")
    props = {
        "provisioningState": "Succeeded", "powerState": {"code": "Running"},
        "kubernetesVersion": "1.33", "currentKubernetesVersion": "1.33.5",
        "dnsPrefix": name, "fqdn": f"{name}.hcp.{location}.azmk8s.io", "maxAgentPools": 100,
        "servicePrincipalProfile": {"clientId": "msi"},
        "agentPoolProfiles": [_placeholder_pool(variant)], "enableRBAC": True,
        "supportPlan": "KubernetesOfficial",
        "nodeResourceGroup": f"MC_{group}_{name}_{location}",
        "networkProfile": {
            "networkPlugin": "azure", "networkPluginMode": "overlay",
            "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
            "loadBalancerSku": "standard",
            "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}}},
        "identityProfile": {"kubeletidentity": {"resourceId": kubelet, "clientId": ZERO,
                                                "objectId": ZERO}},
        "oidcIssuerProfile": {"enabled": False},
        "autoUpgradeProfile": {"upgradeChannel": "none", "nodeOSUpgradeChannel": "NodeImage"},
    }
    if variant:
        props.update({
            "aadProfile": {"managed": True, "enableAzureRBAC": True, "tenantID": ZERO,
                           "adminGroupObjectIDs": [ZERO]},
            "disableLocalAccounts": True,
            "oidcIssuerProfile": {"enabled": True,
                                  "issuerURL": f"https://{location}.oic.prod-aks.azure.com/x/"},
            "securityProfile": {"workloadIdentity": {"enabled": True}},
            "apiServerAccessProfile": {"enablePrivateCluster": True},
            "autoUpgradeProfile": {"upgradeChannel": "patch",
                                   "nodeOSUpgradeChannel": "SecurityPatch"},
            "addonProfiles": {"azurepolicy": {"enabled": True},
                              "azureKeyvaultSecretsProvider": {"enabled": True}},
            "windowsProfile": {"adminUsername": "azureuser", "enableCSIProxy": True},
            "ingressProfile": {"webAppRouting": {"enabled": True}},
            "azureMonitorProfile": {"metrics": {"enabled": True}},
        })
        props["networkProfile"].update(networkDataplane="cilium", networkPolicy="cilium")
    return {
        "id": rid, "name": name, "type": "Microsoft.ContainerService/ManagedClusters",
        "location": location,
        "sku": {"name": "Base", "tier": "Standard" if variant else "Free"},
        "identity": {"type": "SystemAssigned", "principalId": ZERO, "tenantId": ZERO},
        "properties": props,
    }


def _not_found(kind: str, name: str) -> dict:
    return {"error": {"code": "ResourceNotFound", "message": f"The {kind} '{name}' was not found."}}


def _role_definitions(path: str, query: dict) -> Answer | None:
    scope = path[: -len("/providers/Microsoft.Authorization/roleDefinitions")]
    wanted = re.search(r"roleName eq '([^']*)'", " ".join(query.get("$filter", [])))
    if not wanted:
        return None
    guid = next((g for n, g in BUILTIN_ROLES.items() if n.lower() == wanted.group(1).lower()),
                None)
    if guid is None:
        import difflib

        if difflib.get_close_matches(wanted.group(1), list(BUILTIN_ROLES), n=1, cutoff=0.85):
            return Answer(200, {"value": []})  # a misspelt built-in role: no such role
        return None  # perhaps a custom role: Azure's answer is not known here
    return Answer(200, {"value": [_role_definition(scope, guid)]})


def _role_definition(scope: str, guid: str) -> dict:
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
            "name": guid, "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": _ROLE_BY_ID[guid], "type": "BuiltInRole",
                           "assignableScopes": ["/"], "permissions": []}}


def _role_assignment(scope: str, role: str) -> dict:
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{ZERO}",
            "name": ZERO, "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"scope": scope, "principalId": ZERO, "principalType": "ServicePrincipal",
                           "roleDefinitionId": f"/subscriptions/{ZERO}/providers/"
                                               f"Microsoft.Authorization/roleDefinitions/{role}"}}


# ---- Microsoft Graph ------------------------------------------------------------------------

def _graph_lookup(method: str, low: str, body: dict) -> Answer | None:
    if method == "POST" and low.endswith("/directoryobjects/getbyids"):
        return Answer(200, {"value": [{"id": i, "@odata.type": "#microsoft.graph.servicePrincipal",
                                       "appId": ZERO, "displayName": "placeholder"}
                                      for i in body.get("ids") or [ZERO]]}, "exists")
    kind = re.search(r"/(users|groups|serviceprincipals|applications)(/[^/]+)?$", low)
    if method != "GET" or not kind:
        return None
    item = {"id": ZERO, "appId": ZERO, "displayName": "placeholder",
            "userPrincipalName": "placeholder@example.invalid",
            "@odata.type": f"#microsoft.graph.{kind.group(1).rstrip('s')}"}
    if kind.group(2):
        return Answer(200, item, "exists")
    return Answer(200, {"value": [item]}, "exists")
