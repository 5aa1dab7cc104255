"""Worker: validate az command lines with azure-cli's own parser, validators and handlers.

Runs in a child process (see azvalidate), because it changes process-wide state: a private
HOME and AZURE_CONFIG_DIR, telemetry and extension auto-install off, and every socket refused
so that no validation can touch the network. No command handler runs, except `az aks create`
in deep mode, whose real handler runs with Azure clients that refuse every call.

This relies on azure-cli internals (AzCliCommandInvoker._run_job, _filter_params, Profile,
client_factory._get_mgmt_service_client): azure-cli is pinned exactly in pyproject.toml.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
import sys
import tempfile
from unittest import mock

ZERO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

# Command groups that only exist in extensions, with the extension that provides them.
EXTENSION_GROUPS = {
    "network firewall": "azure-firewall",
    "aks-preview": "aks-preview",
    "k8s-extension": "k8s-extension",
    "k8s-configuration": "k8s-configuration",
    "connectedk8s": "connectedk8s",
    "fleet": "fleet",
}


class NetworkRefused(ConnectionRefusedError):
    """A validation tried to reach the network."""


class AzureCallRefused(Exception):
    """Deep validation reached a call to Azure: everything checkable offline has passed."""


class RefusingClient:
    """An Azure SDK client whose every operation refuses (and names itself)."""

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name: str) -> RefusingClient:
        return RefusingClient(f"{self._path}.{name}")

    def __call__(self, *args, **kwargs):
        raise AzureCallRefused(self._path)


def _isolate() -> None:
    home = tempfile.mkdtemp(prefix="aks-runbook-az-")
    os.environ.update({
        "HOME": home,
        "AZURE_CONFIG_DIR": os.path.join(home, ".azure"),
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
        "AZURE_CORE_NO_COLOR": "true",
        "AZURE_CORE_SURVEY_MESSAGE": "false",
        "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
    })

    def refuse(*args, **kwargs):
        raise NetworkRefused("network access refused during offline validation")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]


def _make_invoker(deep: bool, outcome: dict):
    from azure.cli.core.commands import AzCliCommandInvoker

    class RecordingInvoker(AzCliCommandInvoker):
        def resolve_confirmation(self, cmd, parsed_args):  # never prompt
            return None

        def _run_job(self, expanded_arg, cmd_copy):
            params = self._filter_params(expanded_arg)
            outcome["command"] = cmd_copy.name
            if deep and cmd_copy.name == "aks create":
                _run_aks_create(cmd_copy, params, outcome)
            return None

    return RecordingInvoker


def _run_aks_create(cmd, params: dict, outcome: dict) -> None:
    from azure.cli.command_modules.acs import custom
    from azure.cli.core import _profile
    from azure.cli.core.commands import client_factory

    params = {k: v for k, v in params.items() if k not in ("cmd", "client")}

    def refusing_factory(cli_ctx, client_type, *args, **kwargs):
        return RefusingClient(client_type.__name__), ZERO_SUBSCRIPTION

    with mock.patch.object(_profile.Profile, "get_subscription_id",
                           return_value=ZERO_SUBSCRIPTION), \
         mock.patch.object(client_factory, "_get_mgmt_service_client", refusing_factory):
        try:
            custom.aks_create(cmd, RefusingClient("ContainerServiceClient"), **params)
            outcome["deep"] = "handler finished without calling Azure"
        except AzureCallRefused as refused:
            outcome["deep"] = f"handler ran up to the Azure call {refused}"
        except NetworkRefused:
            outcome["network"] = True
        except Exception as error:  # noqa: BLE001 - any other error is a validation error
            outcome["error"] = str(error)


def validate_line(cli, line: str, deep: bool) -> dict:
    result = {"line": line, "status": "invalid", "command": None, "message": "",
              "depth": "parser", "suggestion": None}
    try:
        argv = shlex.split(line, comments=True)
    except ValueError as error:
        result["message"] = f"cannot split the line: {error}"
        return result
    if not argv or argv[0] != "az":
        result.update(status="not-validated", message="not an az command")
        return result
    words = " ".join(a for a in argv[1:4] if not a.startswith("-"))
    for group, extension in EXTENSION_GROUPS.items():
        if words.startswith(group):
            result.update(status="not-validated", command=group,
                          message=f"extension not installed ({extension}): not validated")
            return result

    outcome: dict = {}
    errors: list[str] = []
    cli.invocation_cls = _make_invoker(deep, outcome)
    from azure.cli.core.azclierror import AzCLIError

    def capture(self, *args, **kwargs):
        errors.append(self.error_msg if hasattr(self, "error_msg") else str(self))
        if getattr(self, "recommendations", None):
            errors.extend(self.recommendations)

    with mock.patch.object(AzCLIError, "print_error", capture), \
         mock.patch.object(AzCLIError, "send_telemetry", lambda self: None):
        try:
            code = cli.invoke(argv[1:], out_file=io.StringIO())
        except SystemExit as done:
            code = done.code
        except NetworkRefused:
            outcome["network"] = True
            code = 1
        except Exception as error:  # noqa: BLE001
            errors.append(str(error))
            code = 1
    result["command"] = outcome.get("command")
    if outcome.get("network"):
        result.update(status="not-validated",
                      message="validation tried to reach the network (refused): not validated")
    elif outcome.get("error"):
        result.update(status="invalid", depth="deep", message=outcome["error"])
    elif code == 0 and outcome.get("command"):
        result.update(status="valid", depth="deep" if "deep" in outcome else "parser",
                      message=outcome.get("deep", "parsed and validated"))
    else:
        text = "\n".join(str(e) for e in errors if e).strip() or f"az exited {code}"
        result["message"] = text.split("\n\nExamples from")[0].strip()
        suggestion = [e for e in errors if "Did you mean" in str(e)]
        if "Did you mean" in text:
            result["suggestion"] = text.split("Did you mean", 1)[1].strip(" ?'\n").split("'")[0]
        elif suggestion:
            result["suggestion"] = suggestion[0]
        if "misspelled or not recognized" in text:
            result["message"] += (" (if this command comes from an az extension, install it; "
                                  "it was not validated)")
    return result


def main() -> None:
    request = json.load(sys.stdin)
    # Errors and warnings would otherwise go to stderr of this worker; results carry them.
    sys.stderr = io.StringIO()
    _isolate()
    from azure.cli.core import get_default_cli

    cli = get_default_cli()
    results = [validate_line(cli, line, request.get("deep", True)) for line in request["lines"]]
    sys.__stdout__.write(json.dumps(results))


if __name__ == "__main__":
    main()
