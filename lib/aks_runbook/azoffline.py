"""Worker: validate az command lines with azure-cli's own parser, validators and handlers.

Runs in a child process (see azvalidate), because it changes process-wide state: a private
HOME and AZURE_CONFIG_DIR holding a fake signed-in profile (subscription and tenant
00000000-…; no token can ever be obtained), telemetry and extension auto-install off, every
socket refused, and every HTTP request answered here instead of by Azure:

- read-only lookups that a handler or validator makes only to go on (a resource group's
  location, a subscription, a user-assigned identity, the role assignments at a scope, an
  existing cluster for `az aks update` / `az aks nodepool add`) get plausible answers;
- the request a deep check aims for (the PUT of the managed cluster or agent pool) ends the
  check: everything azure-cli checks before sending it has passed;
- any other call (a write such as a role assignment, or a lookup with no plausible answer)
  ends the check early, and the result names it.

Only `az aks create`, `az aks update` and `az aks nodepool add` run their real handler
(deep mode); other commands stop after their parser and validators.

This relies on azure-cli internals (AzCliCommandInvoker._run_job, _filter_params,
Profile._create_credential, the knack logger, requests' HTTPAdapter.send): azure-cli is pinned
exactly in pyproject.toml and tests/test_azvalidate.py checks the behaviour.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import urlsplit

ZERO = "00000000-0000-0000-0000-000000000000"
ZERO_SUBSCRIPTION = ZERO
DEFAULT_LOCATION = "eastus"

# Command groups that only exist in extensions (none is a core command in azure-cli 2.91;
# tests/test_azvalidate.py checks that), with the extension that provides them.
EXTENSION_GROUPS = {
    "ssh": "ssh",
    "network firewall": "azure-firewall",
    "k8s-extension": "k8s-extension",
    "k8s-configuration": "k8s-configuration",
    "connectedk8s": "connectedk8s",
    "fleet": "fleet",
    "dataprotection": "dataprotection",
    "graph": "resource-graph",
    "aks bastion": "aks-preview",
    "aks addon": "aks-preview",
    "aks check-network": "aks-preview",
    "aks draft": "aks-preview",
    "aks kollect": "aks-preview",
}

# Flags that only the aks-preview extension adds, written for this project from the AKS
# documentation of each preview feature (learn.microsoft.com/azure/aks: "Manage SSH access",
# "IMDS restriction", "pod-managed identities", "Configure kube-proxy", "Image Integrity",
# "Node restriction"; aks-preview's HISTORY.rst). Consulted only after azure-cli rejected a
# flag, so a flag that becomes core is validated normally. flag -> (takes a value, commands)
_CLUSTER = ("aks create", "aks update")
PREVIEW_FLAGS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "--ssh-access": (True, (*_CLUSTER, "aks nodepool add", "aks nodepool update")),
    "--enable-imds-restriction": (False, _CLUSTER),
    "--disable-imds-restriction": (False, ("aks update",)),
    "--enable-pod-identity": (False, _CLUSTER),
    "--enable-pod-identity-with-kubenet": (False, _CLUSTER),
    "--disable-pod-identity": (False, ("aks update",)),
    "--kube-proxy-config": (True, _CLUSTER),
    "--enable-image-integrity": (False, _CLUSTER),
    "--disable-image-integrity": (False, ("aks update",)),
    "--enable-node-restriction": (False, _CLUSTER),
    "--disable-node-restriction": (False, ("aks update",)),
}

# The request each deep check aims for: (method, ARM resource type of the last path segment).
DEEP_TARGETS = {
    "aks create": ("PUT", "managedclusters"),
    "aks update": ("PUT", "managedclusters"),
    "aks nodepool add": ("PUT", "agentpools"),
}

# Public, unauthenticated downloads azure-cli can do without (it has packaged fallbacks):
# these fail as they would on a machine without network, instead of ending the check.
PUBLIC_HOSTS = ("azcliprod.blob.core.windows.net", "raw.githubusercontent.com", "aka.ms")

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"


HELP_FLAGS = {"--help", "-h", "--version"}


class NetworkRefused(ConnectionRefusedError):
    """A validation tried to open a socket."""


class Stop(BaseException):  # noqa: N818 - not an error: the check ends here
    """The offline check cannot go further; `where` names the call it stopped at.

    A BaseException, so that azure-cli's `except Exception` fallbacks cannot swallow it and
    carry on with an answer that Azure never gave.
    """

    def __init__(self, where: str):
        super().__init__(where)
        self.where = where


class RequestReached(Stop):
    """The deep check reached the create/update request: every offline check has passed."""


class CallRefused(Stop):
    """An Azure call that cannot be answered offline (a write, or an unknown lookup)."""


@dataclass
class LineState:
    """What happened while one line was validated."""

    deep: bool
    location: str = DEFAULT_LOCATION
    command: str | None = None  # set once the parser and validators have passed
    handler_error: BaseException | None = None
    offline: list[str] = field(default_factory=list)  # public downloads that failed
    placeholder_cluster: bool = False  # an existing cluster was made up for the handler
    answered: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STATE = LineState(deep=False)
HOME = ""  # the worker's private home, shown as ~ in messages
CORE_COMMANDS: tuple[set[str], set[str]] | None = None
PACKAGED_INDEX = None  # azure-cli's own CommandIndex.get_packaged_core_index


# ---- the offline environment -------------------------------------------------------------

def _isolate() -> str:
    """Private HOME and config with a fake signed-in profile; sockets refused. Returns HOME."""
    home = tempfile.mkdtemp(prefix="aks-runbook-az-")
    config = os.path.join(home, ".azure")
    os.makedirs(config)
    account = {"id": ZERO, "name": "offline-validation", "state": "Enabled", "isDefault": True,
               "tenantId": ZERO, "homeTenantId": ZERO, "environmentName": "AzureCloud",
               "managedByTenants": [], "user": {"name": "offline@example.invalid", "type": "user"}}
    with open(os.path.join(config, "azureProfile.json"), "w", encoding="utf-8") as out:
        json.dump({"installationId": ZERO, "subscriptions": [account]}, out)
    for name in ("AZURE_CORE_ONLY_SHOW_ERRORS", "AZURE_DEFAULTS_GROUP", "AZURE_DEFAULTS_LOCATION"):
        os.environ.pop(name, None)
    os.environ.update({
        "HOME": home,
        "AZURE_CONFIG_DIR": config,
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
        "AZURE_CORE_NO_COLOR": "true",
        "AZURE_CORE_SURVEY_MESSAGE": "false",
        "AZURE_CORE_DISABLE_PROGRESS_BAR": "true",
    })

    def refuse(*args, **kwargs):
        raise NetworkRefused("network access refused during offline validation")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    return home


def _install_answers() -> None:
    """Answer HTTP requests here, give the fake account a token that is never checked."""
    import requests.adapters
    from azure.cli.core import CommandIndex, _profile, util
    from azure.cli.core.parser import AzCliCommandParser
    from knack import prompting

    requests.adapters.HTTPAdapter.send = lambda self, request, **kwargs: _respond(request)

    class OfflineCredential:
        def acquire_token(self, scopes, **kwargs):
            return {"access_token": "offline", "token_type": "Bearer", "expires_in": 3600}

    _profile.Profile._create_credential = lambda self, *args, **kwargs: OfflineCredential()
    util.check_connectivity = lambda *args, **kwargs: False

    def no_prompt():
        if STATE.command is None:  # the parser asking: answer as a script would, no terminal
            raise prompting.NoTTYException
        raise CallRefused("an interactive prompt")

    prompting.verify_is_a_tty = no_prompt

    # Speed (bench/azvalidate.py). An unknown subcommand of a core group (`az aks frobnicate`)
    # makes azure-cli reload every module in case its packaged command index is outdated
    # (~2 s a line); the index ships with the pinned azure-cli, so skip that reload
    # (_confirm_unknown double-checks such verdicts against all modules, loaded once).
    global PACKAGED_INDEX
    PACKAGED_INDEX = CommandIndex.get_packaged_core_index
    CommandIndex.get_packaged_core_index = lambda self: {}
    # Help examples only decorate error messages (dropped here), and loading them reads
    # every help file of the command group: ~0.5 s for each misspelt command.
    AzCliCommandParser.get_examples = lambda self, command: []
    # serviceconnector only adds `az <group> connection …` under aks, webapp, containerapp …,
    # yet azure-cli loads it for every command of those groups (~20 ms a line).
    index_get = CommandIndex.get

    def get_modules(self, args):
        found = index_get(self, args)
        if found and found[0] != ["serviceconnector"] and args[1:2] != ["connection"]:
            found = ([m for m in found[0] if m != "serviceconnector"], found[1])
        return found

    CommandIndex.get = get_modules


def _json_response(request, status: int, body: dict):
    import requests
    from requests.structures import CaseInsensitiveDict

    response = requests.Response()
    response.status_code = status
    response.reason = "OK" if status < 400 else "Not Found"
    response._content = json.dumps(body).encode()
    response.raw = io.BytesIO(response._content)
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8",
                                            "x-ms-request-id": ZERO})
    response.url = request.url
    response.request = request
    response.encoding = "utf-8"
    return response


def _respond(request):
    url = urlsplit(request.url)
    path = url.path.rstrip("/")
    low = path.lower()
    call = f"{request.method} {url.netloc}{path}"
    arm = url.netloc.lower() == "management.azure.com"
    if url.netloc.lower() in PUBLIC_HOSTS:
        import requests

        STATE.offline.append(call)
        raise requests.exceptions.ConnectionError(f"offline validation: no network for {call}")
    target = DEEP_TARGETS.get(STATE.command or "") if STATE.deep else None
    if arm and target and request.method == target[0] and low.split("/")[-2] == target[1]:
        raise RequestReached(call)
    if not arm or request.method != "GET":
        raise CallRefused(call)
    body = _lookup(path, low)
    if body is None:
        raise CallRefused(call)
    STATE.answered.append(call)
    status, content = body
    return _json_response(request, status, content)


def _lookup(path: str, low: str) -> tuple[int, dict] | None:
    """A plausible answer to a read-only ARM lookup, or None when there is none."""
    parts = path.split("/")
    name = parts[-1]
    if re.fullmatch(r"/subscriptions/[^/]+", low):
        return 200, {"id": path, "subscriptionId": name, "tenantId": ZERO, "state": "Enabled",
                     "displayName": "offline-validation"}
    if re.fullmatch(r"/subscriptions/[^/]+/resourcegroups/[^/]+", low):
        return 200, {"id": path, "name": name, "type": "Microsoft.Resources/resourceGroups",
                     "location": STATE.location, "properties": {"provisioningState": "Succeeded"}}
    if re.search(r"/providers/microsoft\.managedidentity/userassignedidentities/[^/]+$", low):
        return 200, {"id": path, "name": name, "location": STATE.location,
                     "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                     "properties": {"principalId": ZERO, "clientId": ZERO, "tenantId": ZERO}}
    if low.endswith("/providers/microsoft.authorization/roleassignments"):
        # The roles AKS grants before creating (subnet, kubelet identity) are in place already.
        scope = path[: -len("/providers/Microsoft.Authorization/roleAssignments")]
        return 200, {"value": [_role_assignment(scope, role)
                               for role in (NETWORK_CONTRIBUTOR, MANAGED_IDENTITY_OPERATOR)]}
    if re.search(r"/providers/microsoft\.containerregistry/registries/[^/]+$", low):
        return 200, {"id": path, "name": name, "location": STATE.location,
                     "type": "Microsoft.ContainerRegistry/registries", "sku": {"name": "Standard"},
                     "properties": {"loginServer": f"{name.lower()}.azurecr.io",
                                    "adminUserEnabled": False}}
    cluster = re.search(r"/resourcegroups/([^/]+)/providers/microsoft\.containerservice/"
                        r"managedclusters/([^/]+)(/agentpools(?:/[^/]+)?)?$", low)
    if cluster:
        if STATE.command == "aks create" and not cluster.group(3):
            return 404, _not_found("managedClusters", name)
        if STATE.command not in ("aks update", "aks nodepool add"):
            return None
        group, cluster_name = parts[4], parts[8]
        if cluster.group(3) == "/agentpools":
            return 200, {"value": []}
        if cluster.group(3):
            return 404, _not_found("agentPools", name)
        STATE.placeholder_cluster = True
        return 200, existing_cluster(group, cluster_name)
    return None


def _not_found(kind: str, name: str) -> dict:
    return {"error": {"code": "ResourceNotFound", "message": f"The {kind} '{name}' was not found."}}


def _role_assignment(scope: str, role: str) -> dict:
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{ZERO}",
            "name": ZERO, "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"scope": scope, "principalId": ZERO, "principalType": "ServicePrincipal",
                           "roleDefinitionId": f"/subscriptions/{ZERO}/providers/"
                                               f"Microsoft.Authorization/roleDefinitions/{role}"}}


def existing_cluster(group: str, name: str) -> dict:
    """A plausible existing cluster (ARM JSON) for the handlers of update and nodepool add."""
    rid = (f"/subscriptions/{ZERO}/resourcegroups/{group}/providers/"
           f"Microsoft.ContainerService/managedClusters/{name}")
    kubelet = (f"/subscriptions/{ZERO}/resourcegroups/MC_{group}_{name}_{STATE.location}/providers/"
               f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}-agentpool")
    pool = {"name": "nodepool1", "count": 3, "vmSize": "Standard_D4ds_v5", "osType": "Linux",
            "osSKU": "Ubuntu", "mode": "System", "type": "VirtualMachineScaleSets",
            "orchestratorVersion": "1.33", "currentOrchestratorVersion": "1.33.5",
            "maxPods": 110, "enableAutoScaling": False, "enableNodePublicIP": False,
            "provisioningState": "Succeeded", "powerState": {"code": "Running"}}
    return {
        "id": rid, "name": name, "type": "Microsoft.ContainerService/ManagedClusters",
        "location": STATE.location, "sku": {"name": "Base", "tier": "Free"},
        "identity": {"type": "SystemAssigned", "principalId": ZERO, "tenantId": ZERO},
        "properties": {
            "provisioningState": "Succeeded", "powerState": {"code": "Running"},
            "kubernetesVersion": "1.33", "currentKubernetesVersion": "1.33.5",
            "dnsPrefix": name, "fqdn": f"{name}.hcp.{STATE.location}.azmk8s.io",
            "agentPoolProfiles": [pool], "enableRBAC": True, "supportPlan": "KubernetesOfficial",
            "nodeResourceGroup": f"MC_{group}_{name}_{STATE.location}",
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
        },
    }


# ---- one line ----------------------------------------------------------------------------

def _make_invoker():
    from azure.cli.core.commands import AzCliCommandInvoker

    class RecordingInvoker(AzCliCommandInvoker):
        def resolve_confirmation(self, cmd, parsed_args):  # never prompt
            return None

        def _run_job(self, expanded_arg, cmd_copy):
            params = self._filter_params(expanded_arg)
            STATE.command = cmd_copy.name  # the parser and every validator have passed
            if STATE.deep and cmd_copy.name in DEEP_TARGETS:
                try:
                    cmd_copy(params)
                except Exception as error:
                    STATE.handler_error = error
                    raise
            return None

    return RecordingInvoker


class _Collector(logging.Handler):
    """azure-cli's log records during one line: warnings and errors."""

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("cli"):
            return
        text = record.getMessage().strip()
        if record.levelno >= logging.ERROR:
            STATE.errors.append(text)
        elif record.levelno >= logging.WARNING and text:
            STATE.warnings.append(text)


def _command_words(argv: list[str]) -> str:
    words = []
    for arg in argv[1:]:
        if arg.startswith("-"):
            break
        words.append(arg)
    return " ".join(words)


def _flag_value(argv: list[str], *flags: str) -> str | None:
    for i, arg in enumerate(argv):
        for flag in flags:
            if arg == flag and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


def _invoke(cli, argv: list[str], deep: bool) -> tuple[int, Stop | None]:
    global STATE
    STATE = LineState(deep=deep)
    STATE.location = _flag_value(argv, "--location", "-l") or DEFAULT_LOCATION
    stderr = io.StringIO()
    sys.stderr = stderr
    stop = None
    try:
        code = cli.invoke(argv[1:], out_file=io.StringIO())
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except Stop as where:
        stop, code = where, 0
    except NetworkRefused as error:
        stop, code = CallRefused(f"a network connection ({error})"), 0
    finally:
        sys.stderr = io.StringIO()
    for text in stderr.getvalue().splitlines():  # deprecation and preview notices
        text = text.strip()
        if text and not text.startswith(("Examples from", "usage:")):
            STATE.warnings.append(text.removeprefix("WARNING: "))
    return code, stop


def _unrecognized(errors: list[str]) -> list[str]:
    for error in errors:
        if "unrecognized arguments:" in error:
            return [a for a in error.split("unrecognized arguments:", 1)[1].split()
                    if a.startswith("-")]
    return []


def _strip_flags(argv: list[str], flags: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            if not arg.startswith("-"):
                continue
        name = arg.split("=", 1)[0]
        if name in flags:
            skip = PREVIEW_FLAGS[name][0] and "=" not in arg
            continue
        kept.append(arg)
    return kept


def _core_commands(cli) -> tuple[set[str], set[str]]:
    """Every core command and command group, from all modules (loaded once, when needed)."""
    global CORE_COMMANDS
    if CORE_COMMANDS is None:
        from azure.cli.core import CommandIndex

        invocation = cli.invocation_cls(cli_ctx=cli, parser_cls=cli.parser_cls,
                                        commands_loader_cls=cli.commands_loader_cls,
                                        help_cls=cli.help_cls)
        cli.invocation = invocation
        invocation.data["command_string"] = ""
        loader = invocation.commands_loader
        with mock.patch.object(CommandIndex, "get", lambda self, args: None), \
             mock.patch.object(CommandIndex, "update", lambda self, table: None):
            loader.load_command_table([])
        CORE_COMMANDS = set(loader.command_table), set(loader.command_group_table)
    return CORE_COMMANDS


def _confirm_unknown(cli, argv: list[str], deep: bool, code: int, stop: Stop | None
                     ) -> tuple[int, Stop | None]:
    """Re-run with azure-cli's full reload if a core command was reported unknown."""
    if not any("misspelled or not recognized" in e for e in STATE.errors):
        return code, stop
    from azure.cli.core import CommandIndex

    words = _command_words(argv)
    if words.split(" ")[0] not in (PACKAGED_INDEX(CommandIndex(cli)) or {}):
        return code, stop  # an unknown top-level group: azure-cli itself looks no further
    commands, groups = _core_commands(cli)
    if words not in groups and not any(words == c or words.startswith(c + " ")
                                       for c in commands):
        return code, stop
    with mock.patch.object(CommandIndex, "get_packaged_core_index", PACKAGED_INDEX):
        return _invoke(cli, argv, deep)


def _close_flag(cli, words: str, flag: str) -> str | None:
    """The command's own option closest to a misspelt one (azure-cli suggests none)."""
    import difflib

    parser = getattr(getattr(cli, "invocation", None), "parser", None)
    command = getattr(parser, "subparser_map", {}).get(words)
    if command is None:
        return None
    options = [o for o in command._option_string_actions if o.startswith("--")]
    options += [f for f, (_, commands) in PREVIEW_FLAGS.items() if words in commands]
    match = difflib.get_close_matches(flag, options, n=1, cutoff=0.8)
    return match[0] if match else None


def validate_line(cli, line: str, deep: bool, plain: bool = False) -> dict:
    """One line's verdict; `plain` leaves out what this module adds to azure-cli's own
    verdict (the extension and preview-flag tables), for tests that check those tables."""
    result = {"status": "invalid", "command": None, "message": "", "warnings": [],
              "suggestion": None}
    try:
        argv = shlex.split(line, comments=True)
    except ValueError as error:
        result["message"] = f"cannot split the line like a shell would: {error}"
        return result
    if not argv or argv[0] != "az":
        result.update(status="not validated", message="not an az line")
        return result
    if HELP_FLAGS & set(argv):
        result.update(status="not validated", message="asks azure-cli for help or its version: "
                                                      "there is no command to check")
        return result
    words = _command_words(argv)
    for group, extension in ({} if plain else EXTENSION_GROUPS).items():
        if words == group or words.startswith(group + " "):
            result.update(status="not validated", command=words,
                          message=f"extension {extension} not installed: `az {group}` comes "
                                  f"from it, so azure-cli here cannot check this line")
            return result

    code, stop = _confirm_unknown(cli, argv, deep, *_invoke(cli, argv, deep))
    unknown = _unrecognized(STATE.errors)
    preview = [f for f in unknown if not plain
               and f in PREVIEW_FLAGS and any(words.startswith(c) for c in PREVIEW_FLAGS[f][1])]
    if not preview or len(preview) < len(unknown):
        _verdict(result, code, stop)
        misspelt = [f for f in unknown if f not in preview]
        if misspelt and not result["suggestion"]:
            result["suggestion"] = _close_flag(cli, words, misspelt[0])
        return result
    # Only preview flags were rejected: check the rest of the line without them.
    code, stop = _invoke(cli, _strip_flags(argv, preview), deep)
    _verdict(result, code, stop)
    flags = ", ".join(preview)
    if result["status"] == "invalid":
        result["message"] += f"\n(the line also uses {flags}: a preview flag of aks-preview)"
    else:
        result["message"] = (f"preview flag of aks-preview ({flags}): core azure-cli does not "
                             f"have it, install the aks-preview extension to use it. Without "
                             f"it the line is {result['status']}: {result['message']}")
        result["status"] = "not validated"
    return result


def _verdict(result: dict, code: int, stop: Stop | None) -> None:
    """Status and message of one invocation from what the line state recorded."""
    result["command"] = STATE.command
    warnings = STATE.warnings
    if stop is not None and STATE.command is None:
        result.update(status="not validated",
                      message=f"needs a signed-in lookup ({_short(stop.where)}): azure-cli's "
                              f"validators call Azure before they can decide, which is not "
                              f"possible offline")
    elif isinstance(stop, RequestReached):
        result.update(status="valid (deep)",
                      message=f"parsed, validated and run through `az {STATE.command}`'s own "
                              f"handler up to its request ({_short(stop.where)})" + _answered())
    elif stop is not None:
        result.update(status="valid",
                      message=f"parsed and validated; the deep check stopped at "
                              f"{_short(stop.where)}, which cannot be answered offline, so the "
                              f"handler's later checks did not run" + _answered())
    elif STATE.handler_error is not None:
        _handler_failed(result, STATE.handler_error)
    elif code == 0 and STATE.command:
        deep = STATE.deep and STATE.command in DEEP_TARGETS
        result.update(status="valid", message="parsed and validated" + (
            "; the handler finished without sending its request" if deep else ""))
    elif STATE.offline:
        result.update(status="not validated",
                      message=f"needs the network ({STATE.offline[0]}): azure-cli failed "
                              f"without it: " + " ".join(STATE.errors))
    else:
        _invalid(result, code)
    warnings = [w.replace(HOME, "~") for w in warnings if w and not w.startswith(
        "Failed to retrieve image alias doc")]  # that one is about the offline download
    result["warnings"] = list(dict.fromkeys(warnings))


def _short(call: str) -> str:
    return call.replace(f"management.azure.com/subscriptions/{ZERO}", "…")


def _answered() -> str:
    if not STATE.answered:
        return ""
    calls = ", ".join(_short(c) for c in dict.fromkeys(STATE.answered))
    return f"; lookups answered with plausible placeholders: {calls}"


def _handler_failed(result: dict, error: BaseException) -> None:
    from azure.cli.core.azclierror import AzCLIError
    from knack.util import CLIError

    text = "\n".join(STATE.errors).strip() or str(error)
    if not isinstance(error, (AzCLIError, CLIError)):
        result.update(status="valid", message=f"parsed and validated; the deep check stopped "
                                              f"on an unexpected error in the handler: {error!r}")
    elif STATE.placeholder_cluster:
        # Its checks compared the line with the existing cluster, here a placeholder: the
        # error may or may not apply to the real one, so neither verdict is earned.
        result.update(status="not validated",
                      message=f"parsed and validated; against a placeholder existing cluster "
                              f"the handler said: {text} (whether that applies depends on the "
                              f"real cluster)")
    else:
        result.update(status="invalid", message=text)


def _invalid(result: dict, code: int) -> None:
    text = "\n".join(e for e in STATE.errors if e).strip() or f"az exited {code}"
    result["message"] = text.split("\n\nExamples from")[0].strip()
    if "Did you mean" in text:
        result["suggestion"] = text.split("Did you mean", 1)[1].strip(" ?'\n").split("'")[0]
    if "misspelled or not recognized" in text:
        result["message"] += (" (if this command comes from an az extension, install it; "
                              "it was not validated)")


def main() -> None:
    request = json.load(sys.stdin)
    # Results go through a private copy of stdout: whatever azure-cli prints (help, versions,
    # command output) goes to /dev/null and cannot corrupt them.
    results_channel = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = io.StringIO()
    # Errors and warnings would otherwise go to stderr of this worker; results carry them.
    sys.stderr = io.StringIO()
    home = _isolate()
    global HOME
    HOME = home
    try:
        from azure.cli.core import get_default_cli
        from azure.cli.core.azclierror import AzCLIError

        _install_answers()
        root = logging.getLogger()
        root.addHandler(_Collector())  # knack then leaves logging alone: no console handler
        root.setLevel(logging.WARNING)

        def capture(self, *args, **kwargs):
            STATE.errors.append(self.error_msg if hasattr(self, "error_msg") else str(self))
            STATE.errors.extend(getattr(self, "recommendations", None) or [])

        cli = get_default_cli()
        cli.invocation_cls = _make_invoker()
        deep, plain = request.get("deep", True), request.get("plain", False)
        with mock.patch.object(AzCLIError, "print_error", capture), \
             mock.patch.object(AzCLIError, "send_telemetry", lambda self: None):
            results = [validate_line(cli, line, deep, plain) for line in request["lines"]]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    results_channel.write(json.dumps(results))
    results_channel.flush()


if __name__ == "__main__":
    main()
