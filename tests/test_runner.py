"""The runner: shows and records commands, retries transient failures, explains failures."""

from __future__ import annotations

import json
import sys

import pytest

from aks_runbook.run.runner import Runner, StepFailed
from aks_runbook.run.transcript import Recording, ReplayMissing, Transcript


def flaky_script(tmp_path, failures: int, message: str) -> list[str]:
    """A real process that fails `failures` times with `message`, then succeeds."""
    counter = tmp_path / "count"
    counter.write_text("0")
    code = (f"import sys, pathlib; p = pathlib.Path({str(counter)!r}); n = int(p.read_text()); "
            f"p.write_text(str(n + 1)); "
            f"sys.exit(print({message!r}, file=sys.stderr) or 1) if n < {failures} "
            f"else print('ok after', n, 'failures')")
    return [sys.executable, "-c", code]


def test_command_is_shown_and_recorded(tmp_path, capsys):
    transcript = Transcript(tmp_path / "t.jsonl")
    result = Runner(transcript).run([sys.executable, "-c", "print('hello')"], step="greet")
    out = capsys.readouterr().out
    assert out.startswith("$ ") and "hello" in out and result.stdout == "hello\n"
    entry = json.loads((tmp_path / "t.jsonl").read_text())
    assert entry["step"] == "greet" and entry["exit_code"] == 0 and entry["stdout"] == "hello\n"
    assert entry["duration_s"] >= 0


def test_transient_failure_is_retried_with_a_hint(tmp_path, capsys):
    runner = Runner(Transcript(), retry_delay=0.01)
    argv = flaky_script(tmp_path, 2, "dial tcp 127.0.0.1:6443: connect: connection refused")
    result = runner.run(argv, step="flaky")
    assert result.ok and "ok after 2 failures" in result.stdout
    out = capsys.readouterr().out
    assert "transient: the API server did not answer" in out and "attempt 3 of 3" in out
    assert [e["attempt"] for e in runner.transcript.entries] == [1, 2, 3]


def test_retries_give_up_and_name_the_step(tmp_path):
    runner = Runner(Transcript(), retry_delay=0.01, retries=1)
    argv = flaky_script(tmp_path, 5, "etcdserver: request timed out")
    with pytest.raises(StepFailed) as failed:
        runner.run(argv, step="write config")
    assert "step 'write config' failed" in str(failed.value)
    assert len(runner.transcript.entries) == 2


def test_permanent_failure_is_not_retried_and_says_what_to_try(tmp_path):
    runner = Runner(Transcript(), retry_delay=0.01)
    argv = flaky_script(tmp_path, 5, 'Error from server (Forbidden): pods is forbidden: User "dev"')
    with pytest.raises(StepFailed) as failed:
        runner.run(argv, step="list pods")
    assert len(runner.transcript.entries) == 1
    assert "What to try: permission denied" in str(failed.value)
    assert "Forbidden" in str(failed.value)


def test_missing_tool_is_a_clear_failure():
    with pytest.raises(StepFailed, match="a tool is missing"):
        Runner(Transcript()).run("no-such-tool-xyz --version", step="tool")


def test_record_then_replay_gives_the_same_output(tmp_path, capsys):
    path = tmp_path / "t.jsonl"
    live = Runner(Transcript(path), retry_delay=0.01)
    live.run(flaky_script(tmp_path, 1, "TLS handshake timeout"), step="a")
    live.run([sys.executable, "-c", "print('second')"], step="b")
    live.api("list nodes", lambda: {"items": [{"metadata": {"name": "n1"}}]})
    recorded = capsys.readouterr().out

    replay = Runner(replay=Recording(path))
    replay.run(flaky_script(tmp_path, 1, "TLS handshake timeout"), step="a")
    replay.run([sys.executable, "-c", "print('second')"], step="b")
    assert replay.api("list nodes", lambda: pytest.fail("replay must not call the API")) == {
        "items": [{"metadata": {"name": "n1"}}]}
    assert capsys.readouterr().out == recorded


def test_replay_of_an_unrecorded_command_is_a_clear_error(tmp_path):
    path = tmp_path / "t.jsonl"
    Runner(Transcript(path)).run([sys.executable, "-c", "print(1)"], step="a")
    with pytest.raises(ReplayMissing, match="not in the recording"):
        Runner(replay=Recording(path)).run("kubectl get pods -A", step="x")


def test_background_command_runs_for_the_block_and_is_stopped(tmp_path):
    runner = Runner(Transcript())
    code = "import time; print('listening', flush=True); time.sleep(60)"
    with runner.background(f"{sys.executable} -c {code!r}", step="server", ready="listening"):
        pid_lines = runner.transcript.entries[-1]["stdout"]
        assert "listening" in pid_lines
    import psutil

    assert not [p for p in psutil.process_iter(["cmdline"])
                if code in " ".join(p.info["cmdline"] or [])]


def test_background_command_that_never_gets_ready_fails_clearly():
    runner = Runner(Transcript())
    code = "print('unable to listen on any of the requested ports')"
    with pytest.raises(StepFailed, match="unable to listen"):
        with runner.background(f"{sys.executable} -c {code!r}", step="pf", ready="Forwarding"):
            pytest.fail("the block must not run")


def test_commands_get_a_lazier_go_collector_unless_the_user_chose_one(monkeypatch):
    show_gogc = [sys.executable, "-c", "import os; print(os.environ.get('GOGC'))"]
    monkeypatch.delenv("GOGC", raising=False)
    assert Runner(Transcript()).run(show_gogc, step="gc").stdout == "400\n"
    monkeypatch.setenv("GOGC", "50")
    assert Runner(Transcript()).run(show_gogc, step="gc").stdout == "50\n"
