"""Worker: validate az command lines with azure-cli's own parser, validators and handlers.

Runs in a child process (see azure.validate), because it changes process-wide state: a private
HOME and AZURE_CONFIG_DIR holding a fake signed-in profile (subscription and tenant
00000000-…; no token can ever be obtained), telemetry and extension auto-install off, every
socket and child program refused, and every HTTP request answered here instead of by Azure
(azanswers decides each one):

- every core command runs its real handler (deep mode) until the request it exists for: its
  first write (to ARM, a data plane or Microsoft Graph) or, for a read command, the read it
  exists for. That request ends the check: everything azure-cli checks before it has passed;
- lookups the handler needs to go on are answered from what an earlier line of the same run
  created (the body of the PUT that line reached), else with plausible placeholders;
- any other call (a lookup with no honest answer, credentials, a program to run) ends the
  check early, and the result names it.

Commands that work on this machine's az state (account, login, config, extension …) are
parsed and validated only: their handlers would read the fake profile. Project rules that
Azure applies but azure-cli does not check (azrules) run before the handler; the aks-preview
fact table (azpreview) is consulted only after core azure-cli rejected a line.

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

from aks_runbook.azure import answers as azanswers
from aks_runbook.azure import preview as azpreview
from aks_runbook.azure import rules as azrules

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
    "grafana": "amg",
    "alerts-management": "alertsmanagement",
    "aks agent": "aks-agent",
    "aks agent-init": "aks-agent",
    "aks agent-cleanup": "aks-agent",
    "confcom": "confcom",
    "attestation": "attestation",
    "postgres flexible-server execute": "rdbms-connect",
    "redisenterprise": "redisenterprise",
    "automation": "automation",
    "monitor scheduled-query": "scheduled-query",
}

# Commands whose handlers work on this machine's az installation, sign-in or settings, not on
# Azure: run offline they would read the fake profile (a false `invalid`) or download.
LOCAL_COMMANDS = ("account", "login", "logout", "config", "configure", "extension", "cloud",
                  "bicep", "upgrade", "version", "init", "interactive", "find", "feedback",
                  "self-test", "survey", "cache", "aks install-cli", "acr login",
                  "acr check-health")

# Public, unauthenticated downloads azure-cli can do without (it has packaged fallbacks):
# these fail as they would on a machine without network, instead of ending the check.
PUBLIC_HOSTS = ("azcliprod.blob.core.windows.net", "raw.githubusercontent.com", "aka.ms")

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
        # Handlers may send requests from a poller thread (azure-cli's AAZ commands): the
        # first stop of a line is kept here, wherever it was raised.
        if STATE.stopped is None:
            STATE.stopped = self


class RequestReached(Stop):
    """The deep check reached the create/update request: every offline check has passed."""


class CallRefused(Stop):
    """An Azure call that cannot be answered offline (a write, or an unknown lookup)."""


@dataclass
class LineState:
    """What happened while one line was validated."""

    deep: bool
    location: str = ""  # the line's --location, if it has one
    names: tuple[str, ...] = ()  # the line's --name values (what a create creates)
    variant: int = 0  # which shape of placeholder existing cluster (azanswers.existing_cluster)
    command: str | None = None  # set once the parser and validators have passed
    handler_ran: bool = False
    local: bool = False  # a command on this machine's az state: its handler is not run
    handler_error: BaseException | None = None
    rule_error: str | None = None  # an azrules rule the line breaks
    offline: list[str] = field(default_factory=list)  # public downloads that failed
    placeholders: list[tuple[str, str]] = field(default_factory=list)  # (kind, call)
    answered: list[str] = field(default_factory=list)  # lookups answered from this run
    confirmed: list[str] = field(default_factory=list)  # yes/no prompts answered yes
    stopped: Stop | None = None  # the first Stop raised, in any thread
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STATE = LineState(deep=False)
RUN = azanswers.RunState()  # what earlier lines of this validation run created
HOME = ""  # the worker's private home, shown as ~ in messages
CORE_COMMANDS: tuple[set[str], set[str]] | None = None
PACKAGED_INDEX = None  # azure-cli's own CommandIndex.get_packaged_core_index


# ---- the offline environment -------------------------------------------------------------

def _isolate(home: str | None = None) -> str:
    """Private HOME and config with a fake signed-in profile; sockets refused. Returns HOME."""
    home = home or tempfile.mkdtemp(prefix="aks-runbook-az-")
    _fresh_home(home)
    config = os.path.join(home, ".azure")
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


def _fresh_home(home: str) -> None:
    """HOME as a run finds it: nothing but the fake profile (whatever a run wrote is gone)."""
    for entry in os.listdir(home):
        shutil.rmtree(os.path.join(home, entry), ignore_errors=True)
    config = os.path.join(home, ".azure")
    os.makedirs(config)
    account = {"id": ZERO, "name": "offline-validation", "state": "Enabled", "isDefault": True,
               "tenantId": ZERO, "homeTenantId": ZERO, "environmentName": "AzureCloud",
               "managedByTenants": [], "user": {"name": "offline@example.invalid", "type": "user"}}
    with open(os.path.join(config, "azureProfile.json"), "w", encoding="utf-8") as out:
        json.dump({"installationId": ZERO, "subscriptions": [account]}, out)


def _install_answers() -> None:
    """Answer HTTP requests here, give the fake account a token that is never checked."""
    import requests.adapters
    from azure.cli.core import CommandIndex, _profile, util
    from azure.cli.core.parser import AzCliCommandParser
    from knack import prompting

    requests.adapters.HTTPAdapter.send = lambda self, request, **kwargs: _respond(request)
    import threading

    hook = threading.excepthook
    # a poller thread that stopped at a request: recorded in STATE.stopped, nothing to print
    threading.excepthook = lambda args: None if issubclass(args.exc_type, Stop) else hook(args)

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
    bool_prompt = prompting._prompt_bool

    def confirm(msg, *args, **kwargs):
        # A yes/no confirmation: the person running the line answers yes to go on.
        if STATE.command is None:
            return bool_prompt(msg, *args, **kwargs)
        STATE.confirmed.append(" ".join(str(msg).split()))
        return True

    prompting._prompt_bool = confirm

    import subprocess

    class NoPrograms(subprocess.Popen):
        def __init__(self, args, *rest, **kwargs):
            program = args if isinstance(args, str) else " ".join(map(str, args))
            if STATE.command is not None and not program.startswith("uname"):  # platform's
                raise CallRefused(f"running a program on this machine ({program[:60]})")
            super().__init__(args, *rest, **kwargs)

    subprocess.Popen = NoPrograms  # type: ignore[misc]

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
    call = f"{request.method} {url.netloc}{url.path.rstrip('/')}"
    if url.netloc.lower() in PUBLIC_HOSTS:
        import requests

        STATE.offline.append(call)
        raise requests.exceptions.ConnectionError(f"offline validation: no network for {call}")
    group = re.search(r"/resourcegroups/([^/]+)", url.path.lower())
    location = STATE.location or (RUN.locations.get(group.group(1)) if group else None) \
        or DEFAULT_LOCATION
    decision = azanswers.decide(request.method, request.url, request.body, STATE.command, RUN,
                                location, STATE.variant, STATE.names,
                                made_up=_made_up(url.path))
    if isinstance(decision, azanswers.Reached):
        broken = azrules.check_request(request.method, url.path, request.body)
        if broken and not STATE.rule_error:
            STATE.rule_error = broken[0]
        raise RequestReached(decision.call)
    if isinstance(decision, azanswers.Refused):
        raise CallRefused(decision.call)
    if decision.placeholder:
        STATE.placeholders.append((decision.placeholder, call))
    else:
        STATE.answered.append(call)
    return _json_response(request, decision.status, decision.body)


def _made_up(path: str) -> bool:
    """Whether the line read this resource (or one it lives under) from a placeholder shaped
    resource: then what it writes there is partly made up."""
    low = path.lower().rstrip("/")
    read = [c.split(" ", 1)[1].split("/", 1)[1].lower() for k, c in STATE.placeholders
            if k == "shape" and c.startswith("GET ")]
    return any(low == "/" + r or low.startswith("/" + r + "/") for r in read)


def _is_local(command: str) -> bool:
    return any(command == c or command.startswith(c + " ") for c in LOCAL_COMMANDS)


# ---- one line ----------------------------------------------------------------------------

def _make_invoker():
    from azure.cli.core.commands import AzCliCommandInvoker, _is_paged, _is_poller

    class RecordingInvoker(AzCliCommandInvoker):
        def resolve_confirmation(self, cmd, parsed_args):
            # The person running the line confirms (or passed --yes); never prompt here.
            parsed_args.__dict__.pop("yes", None)

        def _run_job(self, expanded_arg, cmd_copy):
            params = self._filter_params(expanded_arg)
            STATE.command = cmd_copy.name  # the parser and every validator have passed
            if not STATE.deep:
                return None
            if _is_local(cmd_copy.name):
                STATE.local = True
                return None
            broken = azrules.check(cmd_copy.name, params, RUN.address_spaces())
            if broken:
                STATE.rule_error = broken[0]
                return None
            STATE.handler_ran = True
            try:
                result = cmd_copy(params)
                if _is_poller(result):  # wait, as azure-cli does: its requests come next
                    result.result()
                elif _is_paged(result):
                    list(result)
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


def _invoke(cli, argv: list[str], deep: bool, variant: int = 0) -> tuple[int, Stop | None]:
    global STATE
    STATE = LineState(deep=deep, variant=variant)
    STATE.location = _flag_value(argv, "--location", "-l") or ""
    STATE.names = tuple(n for n in (_flag_value(argv, "--name", "-n"),) if n)
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
    if STATE.stopped is not None and STATE.command is not None:
        stop, code = STATE.stopped, 0
    for text in stderr.getvalue().splitlines():  # deprecation and preview notices
        text = text.strip()
        if text and not text.startswith(("Examples from", "usage:")):
            STATE.warnings.append(text.removeprefix("WARNING: "))
    return code, stop


def _unrecognized(errors: list[str]) -> list[str]:
    for error in errors:
        if "unrecognized arguments:" in error:
            return [a.split("=", 1)[0] for a in
                    error.split("unrecognized arguments:", 1)[1].split() if a.startswith("-")]
    return []


def _strip_flags(argv: list[str], flags: list[str]) -> list[str]:
    """The line without these flags (and their values)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            if not arg.startswith("-"):
                continue
        name = arg.split("=", 1)[0]
        if name in flags:
            skip = azpreview.takes_value(name) and "=" not in arg
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
    options += azpreview.flags_of(words)
    match = difflib.get_close_matches(flag, options, n=1, cutoff=0.8)
    return match[0] if match else None


def validate_line(cli, line: str, deep: bool, plain: bool = False) -> dict:
    """One line's verdict; `plain` leaves out what this module adds to azure-cli's own
    verdict (the extension and aks-preview tables), for tests that check those tables."""
    result = {"status": "invalid", "command": None, "message": "", "warnings": [],
              "suggestion": None}
    try:
        argv = shlex.split(line, comments=True)
    except ValueError as error:
        result.update(status="not validated", message=f"cannot split the line like a shell "
                      f"would ({error}): a value that continues on lines not shown?")
        return result
    if any(a in ("...", "…") for a in argv):
        result.update(status="not validated",
                      message="the line leaves arguments out (`...`): not a whole command")
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
    if not plain and STATE.command is None and any(
            "misspelled or not recognized" in e for e in STATE.errors):
        command = azpreview.preview_command(words)
        if command:
            result.update(status="not validated", command=words,
                          message=f"needs the aks-preview extension: `az {command}` is one of "
                                  f"its commands, not core azure-cli's, so it was not checked")
            return result
    unknown = _unrecognized(STATE.errors)
    preview = [] if plain else azpreview.preview_flags(words, unknown)
    value = None if plain or unknown else azpreview.preview_value(words, STATE.errors, argv)
    if value:
        preview = [value[0]]
    if not preview or len(preview) < len(unknown):
        _settle(cli, argv, deep, result, code, stop)
        misspelt = [f for f in unknown if f not in preview]
        if misspelt and not result["suggestion"]:
            result["suggestion"] = _close_flag(cli, words, misspelt[0])
        return result
    # Only aks-preview flags or values were rejected: check the rest of the line without them.
    code, stop = _invoke(cli, _strip_flags(argv, preview), deep)
    _settle(cli, _strip_flags(argv, preview), deep, result, code, stop)
    what = (f"{value[0]} {value[1]}: a value only aks-preview accepts" if value else
            f"{', '.join(preview)}: {'a flag' if len(preview) == 1 else 'flags'} only "
            f"aks-preview has")
    if result["status"] == "invalid" and not value:
        result["message"] += f"\n(the line also uses {what})"
    else:
        result["message"] = (f"needs the aks-preview extension ({what}); core azure-cli "
                             f"rejects it, install aks-preview to use it. Without it the line "
                             f"is {result['status']}: {result['message']}")
        result["status"] = "not validated"
    return result


def _alone(cli, line: str, deep: bool, plain: bool, result: dict) -> dict:
    """A docs example rejected against what earlier examples of its page created: checked
    again on its own, since a page's examples are not one script."""
    global RUN
    kept, RUN = RUN, azanswers.RunState()
    try:
        alone = validate_line(cli, line, deep, plain)
    finally:
        RUN = kept
    if alone["status"] == "invalid":
        return alone
    alone.update(status="not validated", message=(
        f"on its own the line is {alone['status']}, but after the earlier examples of its "
        f"page azure-cli says: {result['message']} (whether it fails depends on running "
        f"those first)"))
    return alone


def _settle(cli, argv: list[str], deep: bool, result: dict, code: int, stop: Stop | None
            ) -> None:
    """The verdict; a handler error that may depend on a placeholder cluster's shape is
    checked against a second, differently shaped placeholder."""
    _verdict(result, code, stop)
    if result["status"] != "not validated" or not _shape_dependent() or _about_this_machine(
            _error_text()):
        return
    first = result["message"]
    error = _error_text()
    if not _about_the_flags(STATE.handler_error, error):
        return
    code, stop = _invoke(cli, argv, deep, variant=1)
    if STATE.handler_error is not None and _error_text() == error and not STATE.rule_error:
        result.update(status="invalid", message=error + (
            "\n(azure-cli said the same against two differently shaped placeholder existing "
            "resources: the error does not depend on the real one)"))
    else:
        result["message"] = first


def _about_the_flags(error: BaseException | None, text: str) -> bool:
    """An error about the line's own flags conflicting, which a handler may raise after it
    read the existing resource (e.g. `az aks upgrade -k … --node-image-only`)."""
    from azure.cli.core.azclierror import MutuallyExclusiveArgumentError

    conflict = (r"Conflicting flags|mutually exclusive|cannot be (used|specified) together|"
                r"Please specify both")
    return isinstance(error, MutuallyExclusiveArgumentError) or bool(re.search(conflict, text))


def _shape_dependent() -> bool:
    return STATE.handler_error is not None and any(k == "shape" for k, _ in STATE.placeholders)


def _error_text() -> str:
    return "\n".join(STATE.errors).strip() or str(STATE.handler_error)


def _verdict(result: dict, code: int, stop: Stop | None) -> None:
    """Status and message of one invocation from what the line state recorded."""
    result["command"] = STATE.command
    warnings = STATE.warnings
    command = f"`az {STATE.command}`"
    if stop is not None and STATE.command is None:
        result.update(status="not validated",
                      message=f"needs a signed-in lookup ({_short(stop.where)}): azure-cli's "
                              f"validators call Azure before they can decide, which is not "
                              f"possible offline")
    elif STATE.rule_error:
        result.update(status="invalid", message=STATE.rule_error)
    elif isinstance(stop, RequestReached):
        what = ("the read it exists for" if azanswers.is_read_command(STATE.command)
                and not azanswers.is_write(stop.where.split(" ")[0], stop.where.lower())
                else "its request")
        result.update(status="valid (deep)",
                      message=f"parsed, validated and run through {command}'s own handler up "
                              f"to {what} ({_short(stop.where)})" + _lookups())
    elif stop is not None:
        result.update(status="not validated",
                      message=f"parsed and validated, but {command}'s handler then needed "
                              f"{_short(stop.where)}, which cannot be answered offline, so its "
                              f"later checks did not run" + _lookups())
    elif STATE.local:
        result.update(status="not validated",
                      message=f"parsed and validated; {command} works on this machine's az "
                              f"installation, sign-in or settings, not on Azure, so its handler "
                              f"was not run offline")
    elif STATE.offline and code != 0:
        result.update(status="not validated",
                      message=f"needs the network ({STATE.offline[0]}): azure-cli failed "
                              f"without it: " + " ".join(STATE.errors))
    elif STATE.handler_error is not None:
        _handler_failed(result, STATE.handler_error)
    elif code == 0 and STATE.command and not STATE.handler_ran:
        result.update(status="parsed", message="parsed and validated (azure-cli's parser and "
                                               "validators only: no handler was run)")
    elif code == 0 and STATE.command:
        result.update(status="valid (deep)",
                      message=f"parsed, validated and {command}'s handler ran to its end "
                              f"offline without sending a request" + _lookups())
    else:
        _invalid(result, code)
    warnings = [w.replace(HOME, "~") for w in warnings if w and not w.startswith(
        "Failed to retrieve image alias doc")]  # that one is about the offline download
    result["warnings"] = list(dict.fromkeys(warnings))


def _short(call: str) -> str:
    return call.replace(f"management.azure.com/subscriptions/{ZERO}", "…")


def _lookups() -> str:
    text = ""
    if STATE.confirmed:
        text += "; answered yes to its prompt: " + STATE.confirmed[0]
    if STATE.answered:
        text += "; lookups answered from earlier lines of this run: " + ", ".join(
            _short(c) for c in dict.fromkeys(STATE.answered))
    if STATE.placeholders:
        text += "; lookups answered with plausible placeholders: " + ", ".join(
            _short(c) for c in dict.fromkeys(c for _, c in STATE.placeholders))
    return text


def _handler_failed(result: dict, error: BaseException) -> None:
    from azure.cli.core.azclierror import AzCLIError
    from azure.core.exceptions import HttpResponseError
    from knack.util import CLIError

    text = _error_text()
    if isinstance(error, HttpResponseError):  # an answer given here said no (e.g. a 404)
        text = "\n".join(STATE.errors).strip() or str(error.message or error).split("\n")[0]
    machine = _about_this_machine(text)
    if machine:
        result.update(status="not validated",
                      message=f"parsed and validated; the handler then needed {machine}, "
                              f"which is not here: {text}")
        return
    if not isinstance(error, (AzCLIError, CLIError, HttpResponseError)):
        result.update(status="not validated",
                      message=f"parsed and validated; the handler stopped on an unexpected "
                              f"error offline: {error!r}" + _lookups())
    elif _shape_dependent():
        # Its checks compared the line with the existing resource, here a placeholder: the
        # error may or may not apply to the real one, so neither verdict is earned.
        result.update(status="not validated",
                      message=f"parsed and validated; against a placeholder existing "
                              f"resource the handler said: {text} (whether that applies "
                              f"depends on the real one)")
    else:
        result.update(status="invalid", message=text)


_MACHINE = [
    (r"No such file or directory|is not valid file|is not a valid file|not accessable|"
     r"Unable to find '|Unable to load certificate file|does not exist or is not a file",
     "a local file the line names"),
    (r"The extension (\S+) is not installed", "another az extension"),
    (r"Subscription '[^']+' not found", "the subscription the line names (offline only a "
                                        "placeholder subscription is signed in)"),
]


def _about_this_machine(text: str) -> str | None:
    """What an error says is missing on this machine rather than wrong in the line."""
    for pattern, what in _MACHINE:
        if re.search(pattern, text):
            return what
    return None


def _invalid(result: dict, code: int) -> None:
    text = "\n".join(e for e in STATE.errors if e).strip() or f"az exited {code}"
    machine = _about_this_machine(text)
    if machine:
        result.update(status="not validated", message=f"needs {machine}, which is not here: "
                                                      f"{text}")
        return
    result["message"] = text.split("\n\nExamples from")[0].strip()
    if "Did you mean" in text:
        result["suggestion"] = text.split("Did you mean", 1)[1].strip(" ?'\n").split("'")[0]
    if "misspelled or not recognized" in text:
        result["message"] += (" (if this command comes from an az extension, install it; "
                              "it was not validated)")


def _quiet() -> None:
    """Whatever azure-cli prints (help, versions, command output) goes nowhere: fd 1 to
    /dev/null, sys.stdout and sys.stderr to buffers (errors and warnings are in the results)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = io.StringIO()
    sys.stderr = io.StringIO()


def run(request: dict) -> list[dict]:
    """Validate one request's lines (one validation run) in this process, already isolated
    and answering (`_isolate`, `_install_answers`)."""
    from azure.cli.core import get_default_cli
    from azure.cli.core.azclierror import AzCLIError

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
        lines = request["lines"]
        scopes = request.get("scopes") or [None] * len(lines)
        isolated = request.get("isolated") or [False] * len(lines)
        examples = request.get("examples") or [False] * len(lines)
        runs: dict = {}
        results = []
        for line, scope, alone, example in zip(lines, scopes, isolated, examples, strict=True):
            global RUN
            # One run per file: what a line creates answers later lines of its own file.
            # A line whose names are placeholders neither reads nor writes a run.
            RUN = azanswers.RunState() if alone else runs.setdefault(scope, azanswers.RunState())
            result = validate_line(cli, line, deep, plain)
            if example and result["status"] == "invalid" and STATE.answered:
                result = _alone(cli, line, deep, plain, result)
            results.append(result)
    return results


def main() -> None:
    """One request on stdin, its results on stdout, then exit."""
    request = json.load(sys.stdin)
    results_channel = os.fdopen(os.dup(1), "w")  # a private copy: nothing else can write it
    _quiet()
    global HOME
    HOME = _isolate()
    try:
        _install_answers()
        results = run(request)
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
    results_channel.write(json.dumps(results))
    results_channel.flush()


def serve() -> None:
    """A fork server: one request per line on stdin, one reply per line on stdout.

    Importing azure-cli and its command modules is most of a validation's CPU. This process
    isolates itself once (the same private HOME and profile as `main`), then answers each
    request in a fork of itself: the fork starts from this process's state, in which nothing
    has been validated yet, so every run is as clean as a new process; whatever the fork
    changes (patches, globals, HOME's files) dies with it, and HOME is made fresh again before
    the next one. Before a run, the modules the previous run imported are imported here, so
    from the second run on a fork finds azure-cli loaded (a process that validates once pays
    nothing more than before). A run that loaded every command module (an unknown command
    double-checked, see _confirm_unknown) teaches nothing: that is seconds of imports most
    runs never need."""
    requests = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w")
    _quiet()
    global HOME
    HOME = _isolate()
    try:
        # Patched before anything else is imported, as in `main`: a module imported later
        # binds the patched names (e.g. `from subprocess import Popen`) in every fork.
        _install_answers()
        learned: list[str] = []
        for line in requests:
            _preload(learned)
            reply, imported, loaded_all = _in_a_fork(json.loads(line))
            _fresh_home(HOME)
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
            learned = [] if loaded_all else imported
    finally:
        shutil.rmtree(HOME, ignore_errors=True)


def _in_a_fork(request: dict) -> tuple[dict, list[str], bool]:
    """The reply of a fork that ran the request, the modules it imported, and whether it
    loaded every command module."""
    readable, writable = os.pipe()
    before = set(sys.modules)
    pid = os.fork()
    if pid == 0:  # the child: validate, send the results and the modules it imported, exit
        os.close(readable)
        code = 0
        try:
            reply = {"results": run(request)}
        except BaseException:  # noqa: BLE001 - reported to the parent, with its traceback
            import traceback

            reply, code = {"error": traceback.format_exc()[-2000:]}, 1
        reply["imported"] = sorted(set(sys.modules) - before)
        reply["loaded_all"] = CORE_COMMANDS is not None
        with os.fdopen(writable, "w") as out:
            out.write(json.dumps(reply))
        os._exit(code)
    os.close(writable)
    with os.fdopen(readable) as inp:
        text = inp.read()
    _, status = os.waitpid(pid, 0)
    if not text:
        return {"error": f"the validation process ended with status {status}"}, [], False
    reply = json.loads(text)
    return reply, reply.pop("imported", []), reply.pop("loaded_all", False)


def _preload(names: list[str]) -> None:
    import importlib

    for name in names:
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a module only its run could import: skip it
                pass


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["--serve"] else main()
