"""One `run()` for every az, kubectl and helm call, and one `api()` for every API read.

The runner shows the command, streams its output, records it (redacted) to the transcript,
retries known transient failures with a hint, and raises `StepFailed` naming the step and what
to try. With a recording it replays instead: same output, no cluster, no Azure.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aks_runbook.run.redact import Redactor
from aks_runbook.run.transcript import Recording, Transcript

# kubectl lives a fraction of a second, and at Go's default pace (GOGC=100) its collector takes
# about 15 % of that CPU for memory the exit frees anyway. A GOGC the user set wins.
SHORT_LIVED_GO = {"GOGC": "400"}

TRANSIENT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"connection refused|i/o timeout|TLS handshake timeout|connection reset|"
                r"unexpected EOF|http2: client connection lost", re.IGNORECASE),
     "the API server did not answer; it may be starting or restarting"),
    (re.compile(r"etcdserver: (request timed out|leader changed)"), "etcd was busy"),
    (re.compile(r"the object has been modified; please apply your changes", re.IGNORECASE),
     "a controller changed the object at the same moment"),
    (re.compile(r"TooManyRequests|\b429\b|throttl|ServerBusy|RetryableError", re.IGNORECASE),
     "the request was throttled"),
    (re.compile(r"AnotherOperationInProgress|OperationNotAllowed.*in progress", re.IGNORECASE),
     "another Azure operation on this resource is still running"),
]

HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"No such file|command not found|executable file not found", re.IGNORECASE),
     "a tool is missing: install the project (`make run` sets up .venv with kubectl and az)"),
    (re.compile(r"az login|AADSTS|No subscription found", re.IGNORECASE),
     "sign in with `az login`, then `az account set --subscription <id>`"),
    (re.compile(r"forbidden|AuthorizationFailed|does not have authorization", re.IGNORECASE),
     "permission denied: check who you are (`kubectl auth whoami`, `az account show`) and "
     "the role bindings that apply"),
    (re.compile(r"Unable to connect to the server|connection refused", re.IGNORECASE),
     "the cluster is not reachable: `aks-runbook local status` (local target) or check the "
     "kubeconfig"),
    (re.compile(r"already exists|AlreadyExists", re.IGNORECASE),
     "it exists already: re-run with apply/update, or clean up first"),
    (re.compile(r"NotFound|not found", re.IGNORECASE),
     "it does not exist: did an earlier step run? check the name and the namespace"),
]


class StepFailed(RuntimeError):
    """A command failed; the message names the step, the command and what to try."""

    def __init__(self, step: str, command: str, exit_code: int, output: str, hint: str):
        self.step, self.command, self.exit_code, self.hint = step, command, exit_code, hint
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"step {step!r} failed: `{command}` exited {exit_code}\n{tail}\n"
                         f"What to try: {hint}")


@dataclass
class Result:
    command: str
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def _ipython_display_(self) -> None:
        """The command already showed its output; a cell ending in run() adds nothing."""

    def json(self) -> Any:
        return json.loads(self.stdout)


def hint_for(text: str) -> str:
    for pattern, hint in HINTS:
        if pattern.search(text):
            return hint
    return "read the error above; re-run the cell once the cause is fixed"


def _transient(text: str) -> str | None:
    for pattern, reason in TRANSIENT:
        if pattern.search(text):
            return reason
    return None


class Runner:
    def __init__(self, transcript: Transcript | None = None, replay: Recording | None = None,
                 redactor: Redactor | None = None, env: dict[str, str] | None = None,
                 retries: int = 2, retry_delay: float = 2.0, echo: bool = True,
                 scope: str | None = None):
        self.transcript = transcript or Transcript()
        self.scope = scope  # recorded with each entry (the notebook's chapter)
        self.replay = replay
        self.redactor = redactor or Redactor()
        self.env = dict(env or {})
        self.retries, self.retry_delay, self.echo = retries, retry_delay, echo
        if "KUBECONFIG" in self.env:
            self.redactor.add_kubeconfig(self.env["KUBECONFIG"])

    # ---- commands ---------------------------------------------------------------------------

    def run(self, command: str | Sequence[str], *, step: str, input: str | None = None,
            check: bool = True, timeout: float = 900, retries: int | None = None,
            quiet: bool = False, stream: bool = False) -> Result:
        """Run one command. Output is shown once it is complete and redacted as a whole
        (a Secret's data spans lines); `stream=True` shows long operations line by line."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        shown = self.redactor.text(shlex.join(argv))
        key = shown
        masked_input = self.redactor.text(input) if input is not None else None
        if masked_input is not None:
            key += f"  <stdin sha1:{hashlib.sha1(masked_input.encode()).hexdigest()[:12]}>"
        attempts = 1 + (self.retries if retries is None else retries)
        if self.echo and not quiet:
            _say(f"$ {shown}")
        for attempt in range(1, attempts + 1):
            result, duration = self._attempt(argv, key, input, timeout, quiet, stream)
            self.transcript.append({
                "kind": "command", "key": key, "scope": self.scope, "step": step,
                "command": shown,
                "attempt": attempt, "exit_code": result.exit_code,
                "duration_s": round(duration, 3), "stdout": result.stdout,
                "stderr": result.stderr,
                **({"stdin": masked_input} if masked_input is not None else {}),
            })
            if result.ok:
                return result
            reason = _transient(result.stderr + result.stdout)
            if reason and attempt < attempts:
                delay = 0 if self.replay else self.retry_delay * attempt
                _say(f"(transient: {reason}; retrying, attempt {attempt + 1} of {attempts})")
                time.sleep(delay)
                continue
            break
        if check:
            raise StepFailed(step, shown, result.exit_code, result.stderr or result.stdout,
                             hint_for(result.stderr + result.stdout))
        return result

    def _attempt(self, argv: list[str], key: str, input: str | None, timeout: float,
                 quiet: bool, stream: bool) -> tuple[Result, float]:
        if self.replay:
            entry = self.replay.next(key)
            result = Result(entry["command"], entry["exit_code"], entry["stdout"],
                            entry["stderr"])
            self._show(result, quiet)
            return result, entry.get("duration_s", 0.0)
        started = time.monotonic()
        result = self._execute(argv, input, timeout, quiet=quiet or not stream)
        if not stream:
            self._show(result, quiet)
        return result, time.monotonic() - started

    def _execute(self, argv: list[str], input: str | None, timeout: float,
                 quiet: bool) -> Result:
        """Run the process; with quiet=False stream stdout line by line as it comes."""
        executable = resolve_tool(argv[0])
        env = {**SHORT_LIVED_GO, **os.environ, **self.env}
        try:
            proc = subprocess.Popen([executable, *argv[1:]], env=env, text=True,
                                    stdin=subprocess.PIPE if input is not None else
                                    subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError as error:
            return Result(shlex.join(argv), 127, "", f"{argv[0]}: command not found ({error})")
        stderr_chunks: list[str] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()),
                                  daemon=True)
        reader.start()
        if input is not None:
            proc.stdin.write(input)
            proc.stdin.close()
        stdout_lines = []
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        for line in proc.stdout:
            masked = self.redactor.text(line)
            stdout_lines.append(masked)
            if self.echo and not quiet:
                _say(masked, end="")
        code = proc.wait()
        timed_out = not watchdog.is_alive()
        watchdog.cancel()
        reader.join()
        stderr = self.redactor.text("".join(stderr_chunks))
        if timed_out:
            stderr += f"\n(killed after {timeout:.0f} s)"
        if stderr and self.echo and not quiet:
            _say(stderr, stream=sys.stderr)
        stdout = self.redactor.text("".join(stdout_lines))  # again whole: multi-line secrets
        return Result(shlex.join(argv), code, stdout, stderr)

    def _show(self, result: Result, quiet: bool) -> None:
        if not self.echo or quiet:
            return
        if result.stdout:
            _say(result.stdout)
        if result.stderr:
            _say(result.stderr, stream=sys.stderr)

    @contextmanager
    def background(self, command: str, *, step: str, ready: str, timeout: float = 30):
        """Run a long-lived command (e.g. `kubectl port-forward`) for the length of a `with`
        block: started, awaited until its output contains `ready`, stopped at the end."""
        argv = shlex.split(command)
        shown = self.redactor.text(shlex.join(argv))
        key = f"{shown} &"
        if self.echo:
            _say(f"$ {key}")
        if self.replay:
            self.replay.next(key)
            yield
            return
        proc = subprocess.Popen([resolve_tool(argv[0]), *argv[1:]], text=True,
                                env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        seen = []
        for line in proc.stdout:
            seen.append(self.redactor.text(line))
            if ready in line:
                break
        watchdog.cancel()
        output = "".join(seen)
        self.transcript.append({"kind": "background", "key": key, "scope": self.scope,
                                "step": step, "command": shown, "stdout": output})
        try:
            if ready not in output:
                proc.kill()
                raise StepFailed(step, shown, proc.wait(), output, hint_for(output))
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # ---- API reads --------------------------------------------------------------------------

    def api(self, call: str, fetch: Callable[[], Any], step: str = "read") -> Any:
        """Read through the API (live) or from the recording (replay); JSON-like, redacted."""
        key = f"api {call}"
        if self.replay:
            return self.replay.next(key)["result"]
        from aks_runbook.cluster.kube import plain  # the kubernetes client: only when reading

        started = time.monotonic()
        value = self.redactor.data(plain(fetch()))
        self.transcript.append({"kind": "api", "key": key, "scope": self.scope, "step": step,
                                "result": value,
                                "duration_s": round(time.monotonic() - started, 3)})
        return value


def _say(text: str, stream=None, end: str = "\n") -> None:
    """One write per message, so notebooks store it as one output whatever the timing."""
    stream = stream or sys.stdout
    if end and not text.endswith(end):
        text += end
    stream.write(text)
    stream.flush()


def resolve_tool(name: str) -> str:
    """kubectl and az from the project's environment first, then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name) or name
