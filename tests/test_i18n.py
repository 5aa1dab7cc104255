"""The package speaks Japanese too: every message it needs translated is in the ja catalog (none
missing, none stale), `posture --lang ja` gives the same findings as English apart from the
translated text, identifiers stay as they are inside it, and the language comes from --lang,
else AKS_RUNBOOK_LANG, else LANG."""

from __future__ import annotations

import json
import re

import pytest

from aks_runbook import checks, cli, i18n
from aks_runbook.cli import messages
from test_checks_cli import MANIFESTS as APP  # the same inputs as the English CLI tests
from test_checks_cli import SHOW

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# what must read the same in every language
IDENTIFIER = re.compile(r"AKS-[A-Z]+-\d{3}|\bC-\d{4}\b|\bCKV2?_[A-Z0-9_]+|"
                        r"\baz (?:aks|acr) (?:nodepool |maintenanceconfiguration )?[a-z-]+|"
                        r"(?<![\w-])--[a-z][a-z-]+|\bkubectl [a-z]+")
SAME = ("check", "resource", "status", "severity", "public_ids")


@pytest.fixture(autouse=True)
def no_language_chosen(monkeypatch):
    """Each test starts from the environment's choice, English, and leaves it so."""
    for name in ("AKS_RUNBOOK_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "app.yaml").write_text(APP)
    (tmp_path / "show.json").write_text(json.dumps(SHOW))
    return tmp_path


def posture(capsys, files, *args: str) -> tuple[int, str, str]:
    code = cli.main(["posture", "--from-files", str(files / "app.yaml"), "--cluster-json",
                     str(files / "show.json"), "--all", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_ja_catalog_translates_every_message_none_stale():
    problems = i18n.problems("ja", messages.extra())
    assert problems == [], "\n".join(problems)


def test_the_template_holds_the_catalog_the_marked_strings_and_the_rule_messages():
    template = i18n.template(messages.extra())
    for item in checks.CATALOG:
        assert item.title in template and item.remediation in template
        assert not item.differs or item.differs in template
    for marked in ("{total} findings: {failed} failed", "Findings by severity", "verb",
                   "--max-pods {pods} is outside {low}-{high}, the range AKS enforces for "
                   "maximum pods per node ({page})", "cannot judge: {kinds} could not be listed"):
        assert marked in template, marked


def test_ja_findings_equal_en_findings_apart_from_the_text(capsys, files):
    code_en, out_en, _ = posture(capsys, files, "-o", "json", "--lang", "en")
    code_ja, out_ja, _ = posture(capsys, files, "-o", "json", "--lang", "ja")
    english, japanese = json.loads(out_en), json.loads(out_ja)
    assert code_en == code_ja == 0
    assert len(english) == len(japanese) > 40
    assert [{k: f[k] for k in SAME} for f in japanese] == [{k: f[k] for k in SAME}
                                                           for f in english]
    for en, ja in zip(english, japanese, strict=True):
        assert en["title"] != ja["title"] and JAPANESE.search(ja["title"]), ja["title"]
        if en["remediation"]:
            assert en["remediation"] != ja["remediation"] and JAPANESE.search(ja["remediation"])
        for identifier in IDENTIFIER.findall(en["remediation"]):
            assert identifier in ja["remediation"], (en["check"], identifier)
    translated = [ja for ja in japanese if JAPANESE.search(ja["evidence"])]
    assert len(translated) > len(japanese) / 2  # the common evidence sentences


def test_identifiers_stay_inside_every_translated_remediation_and_differs():
    wrong = []
    for item in checks.CATALOG:
        for english in (item.title, item.remediation, item.differs):
            japanese = i18n.gettext(english, "ja")
            wrong += [(item.id, token) for token in IDENTIFIER.findall(english)
                      if token not in japanese]
    assert wrong == []


def test_english_is_the_findings_themselves(capsys, files):
    _, out_default, _ = posture(capsys, files, "-o", "json")
    _, out_en, _ = posture(capsys, files, "-o", "json", "--lang", "en")
    assert out_default == out_en
    state = checks.State({}, SHOW, "az aks show", origin="files")
    found = checks.run(state)
    assert [checks.localized(f, "en") for f in found] == found


def test_the_table_summary_and_headers_speak_japanese(capsys, files):
    _, out, _ = posture(capsys, files, "--lang", "ja")
    assert "チェック" in out.splitlines()[0] and "AKS-OV-001" in out
    assert re.search(r"検出結果 \d+ 件: 不合格 \d+ 件", out)
    assert "--all" not in out.splitlines()[-1] or "件を表示" in out


def test_lang_ja_in_the_environment_picks_japanese(capsys, files, monkeypatch):
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert i18n.language() == "ja"
    _, out, _ = posture(capsys, files, "-o", "json")
    assert all(JAPANESE.search(f["title"]) for f in json.loads(out))
    monkeypatch.setenv("AKS_RUNBOOK_LANG", "en")  # the package's own setting wins
    assert i18n.language() == "en"
    i18n.set_language("ja")  # and an explicit choice over both
    assert i18n.language() == "ja"


def test_lang_option_leaves_the_language_as_it_was(capsys, files):
    posture(capsys, files, "-o", "json", "--lang", "ja")
    assert i18n.language() == "en"


def test_an_unknown_language_is_refused(capsys, files):
    with pytest.raises(SystemExit) as exit:
        posture(capsys, files, "--lang", "fr")
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "'fr'" in err and "'en'" in err and "'ja'" in err
    with pytest.raises(ValueError, match=r"'fr'.*en, ja"):
        i18n.set_language("fr")


@pytest.mark.parametrize("command", ["posture", "rbac", "reachability", "plan", "validate-az",
                                     "run", "report"])
def test_every_analysis_command_takes_lang(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    assert "--lang {en,ja}" in capsys.readouterr().out


def test_plan_rule_messages_speak_the_language():
    from aks_runbook.azure import rules

    english = rules.check("aks create", {"max_pods": 300}, [])
    with i18n.using("ja"):
        japanese = rules.check("aks create", {"max_pods": 300}, [])
    assert english[0].startswith("--max-pods 300 is outside 10-250")
    assert japanese[0].startswith("--max-pods 300 は") and "10-250" in japanese[0]


def test_evidence_templates_carry_names_and_translate_sentences():
    text = ("container web: no seccomp profile; init container setup: busybox has no tag "
            "(means latest)")
    assert i18n.by_template(text, checks.EVIDENCE, "ja") == (
        "コンテナー web: seccomp プロファイルがない; init コンテナー setup: busybox にタグがない "
        "(latest を意味する)")
    assert i18n.by_template("something new", checks.EVIDENCE, "ja") == "something new"
    assert i18n.by_template(text, checks.EVIDENCE, "en") == text


def test_fuzzy_entries_are_not_used_and_update_keeps_and_marks(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "catalog_path", lambda lang: tmp_path / f"{lang}.po")
    monkeypatch.setattr(i18n, "_translations", {})
    monkeypatch.setattr(i18n, "marked_messages", lambda: [])
    i18n.update("ja", [("Old title of a check", "check:X"), ("Kept", "check:Y")])
    po = (tmp_path / "ja.po").read_text()
    po = po.replace('msgid "Old title of a check"\nmsgstr ""',
                    'msgid "Old title of a check"\nmsgstr "古いタイトル"')
    po = po.replace('msgid "Kept"\nmsgstr ""', 'msgid "Kept"\nmsgstr "保持"')
    (tmp_path / "ja.po").write_text(po)
    i18n.update("ja", [("Old title of a check!", "check:X"), ("Kept", "check:Y")])
    po = (tmp_path / "ja.po").read_text()
    assert '#, fuzzy\n#| msgid "Old title of a check"\nmsgid "Old title of a check!"' in po
    assert i18n.problems("ja", [("Old title of a check!", "check:X"), ("Kept", "check:Y")]) == [
        "fuzzy (stale): 'Old title of a check!'"]
    assert i18n.gettext("Old title of a check!", "ja") == "Old title of a check!"  # fuzzy
    assert i18n.gettext("Kept", "ja") == "保持"


def test_the_report_shows_recorded_english_findings_in_the_language():
    from aks_runbook.run import report_html

    checks.messages()  # the catalog registered
    fix = next(c.remediation for c in checks.CATALOG if c.id == "AKS-NET-001")
    rows = [{"chapter": "02-network", "check": "AKS-NET-001", "status": "fail",
             "severity": "high", "resource": "ManagedCluster/aks1",
             "title": "API server open to any address (no authorized IP ranges)",
             "evidence": "no authorized IP ranges: the public API server is open to any address "
                         "(az aks show)", "remediation": fix}]
    english = report_html._findings(rows, "note")
    assert "<h3>Failing findings</h3>" in english and "API server open" in english
    with i18n.using("ja"):
        japanese = report_html._findings(rows, "note")
    assert "<h3>不合格の検出結果</h3>" in japanese
    assert "許可された IP 範囲" in japanese and "AKS-NET-001" in japanese
    assert "az aks update --api-server-authorized-ip-ranges" in japanese
    assert rows[0]["title"].startswith("API server")  # the recorded finding stays English


def _dev():
    from aks_runbook import params, paths

    return params.load(paths.project_root() / "environments" / "aks-dev.yaml")


def test_a_plan_reason_is_its_english_text_and_is_shown_in_the_language():
    from aks_runbook.azure import plan as azplan
    from aks_runbook.checks import plan as plan_rules

    env = _dev()
    steps = azplan.build(env)
    with i18n.using("ja"):  # building in Japanese changes nothing: reasons are English inside
        assert azplan.build(env) == steps
    settings = next(s for s in steps if s.id == "upgrade-settings-user")
    assert settings.reason.startswith("Pool 'user': upgrade with max surge 1, 30 min drain")
    assert azplan.said(settings.reason, "en") == settings.reason
    japanese = azplan.said(settings.reason, "ja")
    assert japanese.startswith("プール 'user': 最大サージ 1、ドレイン タイムアウト 30 分")
    assert "Schedule" in japanese  # values stay as they are
    maintenance = next(s for s in steps if s.id == "maintenance-default")
    assert "毎週火曜日 01:00-05:00 (UTC+09:00) = 月曜日 16:00 (UTC)" in azplan.said(
        maintenance.reason, "ja")
    assert [s["reason"] for s in json.loads(azplan.render(steps, env, "json"))] == [
        str(s.reason) for s in steps]
    with i18n.using("ja"):  # JSON is data: English in every language
        assert json.loads(azplan.render(steps, env, "json"))[0]["reason"].startswith("One")
    rules = plan_rules.judge(env, steps)
    assert plan_rules.localized(rules, "en") == rules
    shown = {f.check: f for f in plan_rules.localized(rules, "ja")}
    assert shown["AKS-PLAN-003"].evidence == "プライベート クラスターではない"
    assert JAPANESE.search(shown["AKS-PLAN-001"].title)


@pytest.mark.slow
def test_plan_lang_ja_shows_the_step_reasons_in_japanese_and_english_stays(capsys):
    from aks_runbook import paths
    from aks_runbook.azure import plan as azplan

    path = str(paths.project_root() / "environments" / "aks-dev.yaml")
    cli.main(["plan", path])  # validation cached: the second and third runs reuse it
    default = capsys.readouterr().out
    cli.main(["plan", path, "--lang", "en"])
    english = capsys.readouterr().out
    cli.main(["plan", path, "--lang", "ja"])
    japanese = capsys.readouterr().out
    assert english == default
    for step in azplan.build(_dev()):
        assert f"[{step.chapter}] {step.reason}" in english, step.id
    assert (" 1. [01-overview] この環境が作成する (そして削除する) すべてを 1 つの"
            "リソース グループにまとめる。") in japanese
    assert "[04-maintenance] プール 'user': 最大サージ 1" in japanese

    def commands(out: str) -> list[str]:
        return [line for line in out.splitlines() if line.startswith("    ")]

    assert commands(japanese) == commands(english)  # commands and values as they are
    assert "プライベート クラスターではない" in japanese and "AKS-PLAN-003" in japanese


def test_a_japanese_table_fits_the_terminal_columns_it_promises(capsys, files):
    """A Japanese character takes two columns: widths, cuts and wrapping count columns."""
    from aks_runbook.cli.output import WIDTH, columns

    _, out, _ = posture(capsys, files, "--lang", "ja")
    lines = out.splitlines()
    assert max(columns(line) for line in lines) <= WIDTH
    assert any(columns(line) > len(line) for line in lines)  # Japanese text is in it
    header = lines[0]
    first = lines[1]
    # the columns line up: the check id starts where its header does, in columns
    assert columns(header[:header.index("チェック")]) == columns(first[:first.index("AKS-")])


def test_wrapping_breaks_japanese_between_characters_and_english_as_textwrap_does():
    import textwrap

    from aks_runbook.cli.output import columns, wrap

    english = "one two three four five six seven eight nine ten " * 3
    assert wrap(english, 30, "  ") == textwrap.wrap(english, 30, initial_indent="  ",
                                                    subsequent_indent="  ",
                                                    break_on_hyphens=False)
    japanese = "ポッドがノードのネットワーク、PID、IPC 名前空間を共有している" * 3
    lines = wrap(japanese, 30, "  ")
    assert all(columns(line) <= 30 for line in lines) and len(lines) > 3
    assert "".join(line.strip() for line in lines).replace(" ", "") == \
        japanese.replace(" ", "")
