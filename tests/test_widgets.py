"""The widgets' answers (no browser, no kernel): the reachability explorer, the who-can
explorer, the environment picker and the live upgrade timeline; their ipywidgets react to a
value change; headless, each prints the same information as text or a table."""

from __future__ import annotations

import pytest

from aks_runbook import frontend, manifests, params
from aks_runbook.analysis import reachability as reach
from aks_runbook.notebook.widgets import common, picker, timeline, whocan
from aks_runbook.notebook.widgets import reachability as explorer
from aks_runbook.targets import upgrade
from check_views import cluster_view

NS, INGRESS = "azure-vote", "app-routing-system"
FRONT, BACK, DEBUG = f"{NS}/azure-vote-front-1", f"{NS}/azure-vote-back-1", f"{NS}/debug"
CONTROLLER = f"{INGRESS}/ingress-controller"
WEB = {"metadata": {"name": "debug-to-web", "namespace": NS},
       "spec": {"podSelector": {"matchLabels": {"app": "debug"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
                            "ports": [{"port": 443}]}]}}


@pytest.fixture
def voting() -> explorer.Explorer:
    """Chapter 02's app under its policies, plus an egress allow to an outside range."""
    pods = [reach.Pod(NS, "azure-vote-front-1", {"app": "azure-vote-front"},
                      ports=[reach.Port("TCP", 80, "http")]),
            reach.Pod(NS, "azure-vote-back-1", {"app": "azure-vote-back"},
                      ports=[reach.Port("TCP", 6379, "redis")]),
            reach.Pod(NS, "debug", {"app": "debug"}),
            reach.Pod(INGRESS, "ingress-controller", {})]
    namespaces = {n: {reach.NAME_LABEL: n} for n in (NS, INGRESS)}
    policies = manifests.render("network-policies", namespace=NS, ingress_namespace=INGRESS)
    return explorer.Explorer(pods, namespaces, [*policies, WEB])


@pytest.fixture
def widgets_mode(monkeypatch):
    monkeypatch.setenv(common.HEADLESS_ENV, "0")


# -- reachability ------------------------------------------------------------------------------

def test_explorer_gives_the_ports_and_the_policies_that_allow_them(voting):
    answer = voting.answer(CONTROLLER, FRONT)
    assert answer.ports == "TCP/80"
    assert answer.allowed == (("TCP/80", (f"{NS}/front-from-ingress",)),)
    both = voting.answer(FRONT, BACK)
    assert both.allowed == (("TCP/6379", (f"{NS}/front-to-redis", f"{NS}/redis-from-front")),)
    assert voting.answer(BACK, FRONT).ports == explorer.NOTHING
    assert voting.answer(DEBUG, FRONT).text() == f"{DEBUG} -> {FRONT}: no connection allowed"


def test_switching_a_policy_off_changes_the_answer(voting):
    off = voting.answer(CONTROLLER, FRONT, (f"{NS}/front-from-ingress",))
    assert off.ports == explorer.NOTHING
    assert "(switched off: azure-vote/front-from-ingress)" in off.text()
    # without default deny the debug pod is open to ingress, still closed for egress
    open_ = voting.answer(CONTROLLER, DEBUG, (f"{NS}/default-deny-all",))
    assert open_.ports == explorer.EVERY_PORT
    assert voting.answer(DEBUG, BACK, (f"{NS}/default-deny-all",)).ports == explorer.NOTHING
    assert voting.answer(CONTROLLER, DEBUG).ports == explorer.NOTHING  # the cache keeps both
    with pytest.raises(ValueError, match="no such policy: azure-vote/nope"):
        voting.answer(CONTROLLER, FRONT, ("azure-vote/nope",))


def test_outside_ranges_are_answered_for_the_whole_range(voting):
    assert voting.ranges() == ["ip/0.0.0.0/0", "ip/203.0.113.0/24", "ip/::/0"]
    assert voting.answer(DEBUG, "ip/203.0.113.0/24").allowed == (
        ("TCP/443", (f"{NS}/debug-to-web",)),)
    assert voting.answer(DEBUG, "ip/203.0.113.128/25").ports == "TCP/443"  # inside it
    assert voting.answer(DEBUG, "ip/0.0.0.0/0").ports == explorer.NOTHING  # not all of it
    assert voting.answer(FRONT, "ip/203.0.113.0/24").ports == explorer.NOTHING
    assert voting.answer("ip/0.0.0.0/0", CONTROLLER).ports == explorer.EVERY_PORT
    assert voting.answer("ip/0.0.0.0/0", FRONT).ports == explorer.NOTHING
    with pytest.raises(ValueError, match="pick a pod on at least one side"):
        voting.answer("ip/0.0.0.0/0", "ip/203.0.113.0/24")


def test_a_range_allowed_every_port_needs_no_other_row(voting):
    anywhere = {"metadata": {"name": "debug-anywhere", "namespace": NS},
                "spec": {"podSelector": {"matchLabels": {"app": "debug"}},
                         "policyTypes": ["Egress"],
                         "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    wide = explorer.Explorer(voting.pods, voting.namespaces, [*voting.policies, anywhere])
    assert wide.answer(DEBUG, "ip/203.0.113.0/24").allowed == (
        ("*", (f"{NS}/debug-anywhere",)),)
    assert wide.answer(DEBUG, "ip/203.0.113.0/24").text().splitlines()[0] == (
        f"{DEBUG} -> ip/203.0.113.0/24: allowed every protocol and port")


def test_explorer_widget_reacts_to_the_dropdowns_and_the_policy_boxes(voting, widgets_mode):
    widget = explorer.ExplorerWidget(voting)
    assert "aks-reachability-explorer" in widget.widget._dom_classes
    assert common.ANSWER_CLASS in widget.answer._dom_classes
    assert (widget.source.description, widget.destination.description) == (
        "source", "destination")
    widget.source.value, widget.destination.value = CONTROLLER, FRONT
    assert common.text_of(widget.answer).startswith(f"{CONTROLLER} -> {FRONT}: allowed TCP/80")
    widget.policies[f"{NS}/front-from-ingress"].value = False
    assert f"{FRONT}: no connection allowed" in common.text_of(widget.answer)
    widget.policies[f"{NS}/front-from-ingress"].value = True
    widget.destination.value = "ip/203.0.113.0/24"
    assert ": allowed every protocol and port\n" in common.text_of(widget.answer)  # not isolated
    widget.source.value = FRONT
    assert "no connection allowed" in common.text_of(widget.answer)
    widget.source.value = DEBUG
    assert f"{DEBUG} -> ip/203.0.113.0/24: allowed TCP/443" in common.text_of(widget.answer)


def test_explorer_widget_takes_an_outside_range_of_ones_own(voting, widgets_mode):
    widget = explorer.ExplorerWidget(voting)
    widget.source.value = DEBUG
    widget.other_range.value = "203.0.113.7/32"
    assert widget.destination.value == "ip/203.0.113.7/32"
    assert f"{DEBUG} -> ip/203.0.113.7/32: allowed TCP/443" in common.text_of(widget.answer)
    widget.other_range.value = "198.51.100.0/24"
    assert common.text_of(widget.answer).startswith(
        f"{DEBUG} -> ip/198.51.100.0/24: no connection allowed")
    assert "ip/203.0.113.7/32" in [key for _, key in widget.source.options]
    widget.other_range.value = "not-a-range"
    assert "not an IPv4 or IPv6 range" in common.text_of(widget.answer)


def test_headless_explorer_is_a_matrix_and_what_each_policy_changes(voting):
    table = explorer.headless_table(voting)
    assert table.loc[CONTROLLER, FRONT] == "TCP/80"
    assert table.loc[FRONT, BACK] == "TCP/6379"
    assert table.loc[BACK, FRONT] == "-"
    assert table.loc[CONTROLLER, "ip/0.0.0.0/0"] == "all"
    text = explorer.headless_text(voting)
    assert (f"without {NS}/front-from-ingress: 1 pair(s) change\n  {CONTROLLER} -> {FRONT}: "
            f"TCP/80 => no connection allowed") in text
    assert f"without {NS}/dns-egress: nothing changes" in text
    assert text == explorer.headless_text(voting)  # deterministic


# -- who can -----------------------------------------------------------------------------------

RBAC = "rbac.authorization.k8s.io"
EDIT_RULE = {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "get"]}
TEAM = cluster_view(
    {"kind": "ClusterRole", "metadata": {"name": "team-edit"},  # aggregated by the controller
     "aggregationRule": {"clusterRoleSelectors": [
         {"matchLabels": {f"{RBAC}/aggregate-to-team-edit": "true"}}]},
     "rules": [EDIT_RULE]},
    {"kind": "ClusterRole", "metadata": {"name": "deployments-part",
                                         "labels": {f"{RBAC}/aggregate-to-team-edit": "true"}},
     "rules": [EDIT_RULE]},
    {"kind": "RoleBinding", "metadata": {"name": "developers", "namespace": "team-a"},
     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "team-edit"},
     "subjects": [{"kind": "Group", "name": "developers", "apiGroup": RBAC}]},
    {"kind": "ClusterRoleBinding", "metadata": {"name": "masters"},
     "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "team-edit"},
     "subjects": [{"kind": "Group", "name": "system:masters", "apiGroup": RBAC}]})


def test_who_can_names_the_group_the_binding_the_aggregated_role_and_the_rule():
    answer = whocan.WhoCan(TEAM).answer("create", "deployments.apps", "team-a")
    assert [(r.subject, r.binding, r.role) for r in answer.rows] == [
        ("Group/developers", "RoleBinding/team-a/developers", "ClusterRole/team-edit")]
    assert answer.rows[0].rule == "apiGroups=apps resources=deployments verbs=create,get"
    assert answer.text().splitlines() == [
        "who can create deployments.apps in namespace team-a: Group/developers",
        "  Group/developers through RoleBinding/team-a/developers -> ClusterRole/team-edit: "
        "apiGroups=apps resources=deployments verbs=create,get"]
    assert whocan.WhoCan(TEAM).answer("create", "deployments.apps", "team-b").rows == ()
    assert "nobody" in whocan.WhoCan(TEAM).answer("delete", "deployments.apps", "team-a").text()


def test_who_can_widget_reacts_and_headless_lists_every_request():
    who = whocan.WhoCan(TEAM)
    widget = whocan.WhoCanWidget(who, ["get", "delete"], ["deployments.apps", "pods"],
                                 ["team-a", whocan.ANY_NAMESPACE])
    assert "aks-whocan-explorer" in widget.widget._dom_classes
    assert "Group/developers" in common.text_of(widget.answer)
    widget.verb.value = "delete"
    assert "nobody" in common.text_of(widget.answer)
    widget.verb.value, widget.namespace.value = "get", whocan.ANY_NAMESPACE
    assert "in any namespace: Group/developers" in common.text_of(widget.answer)
    table = whocan.headless_table(who, ["get", "delete"], ["deployments.apps"], ["team-a"])
    assert table.to_dict("records") == [
        {"request": "get deployments.apps", "namespace": "team-a",
         "subject": "Group/developers", "binding": "RoleBinding/team-a/developers",
         "role": "ClusterRole/team-edit", "rule": EDIT_RULE_TEXT},
        {"request": "delete deployments.apps", "namespace": "team-a", "subject": "nobody",
         "binding": "", "role": "", "rule": ""}]


EDIT_RULE_TEXT = "apiGroups=apps resources=deployments verbs=create,get"


# -- the environment picker --------------------------------------------------------------------

LOCAL = params.read_file(params.Path(__file__).resolve().parents[1] / "environments/local.yaml")


def test_picker_gives_the_parameter_checks_own_message_for_a_bad_prefix():
    result = picker.check(LOCAL, prefix="Team_1")
    with pytest.raises(params.ParameterError) as error:
        params.load({**LOCAL, "prefix": "Team_1"})
    assert not result.ok and result.message == str(error.value)
    assert "prefix = 'Team_1'" in result.text()


def test_picker_shows_the_azure_names_a_valid_choice_gives():
    result = picker.check(LOCAL, target="kind", prefix="team7")
    assert result.ok
    assert result.names == {"resource group": "rg-team7-local", "cluster": "aks-team7-local",
                            "registry": "acrteam7local",
                            "node resource group": "MC_rg-team7-local_aks-team7-local_japaneast"}
    prod = picker.check(LOCAL, "environments/aks-prod.yaml")
    assert prod.names["cluster"] == "aks-team1-prod"
    # a replay needs a transcript: the model's own rule
    assert "transcript = None: target 'replay' needs a recorded transcript" in picker.check(
        LOCAL, target="replay").message


def test_picker_widget_validates_as_you_type_and_takes_a_files_values(widgets_mode):
    widget = picker.Picker(LOCAL)
    assert "aks-environment-picker" in widget.widget._dom_classes
    assert "resource group rg-demo-local" in common.text_of(widget.answer)
    widget.prefix.value = "Bad"
    assert common.text_of(widget.answer) == str(_error({**LOCAL, "prefix": "Bad"}))
    widget.env_file.value = "environments/aks-dev.yaml"
    assert (widget.target.value, widget.prefix.value) == ("aks", "team1")
    assert "cluster aks-team1-dev" in common.text_of(widget.answer)
    assert ("aks-runbook run environments/aks-dev.yaml -p target=aks -p prefix=team1"
            in common.text_of(widget.answer))


def _error(values: dict) -> params.ParameterError:
    try:
        params.load(values)
    except params.ParameterError as error:
        return error
    raise AssertionError("expected invalid parameters")


def test_headless_picker_lists_the_current_parameters_and_each_file():
    text = picker.headless_text(LOCAL)
    lines = text.splitlines()
    assert lines[0].startswith("environment picker: target local, prefix 'demo'")
    assert "cluster aks-demo-local" in lines[0]
    assert any(line.startswith("environments/aks-prod.yaml: valid") for line in lines)


# -- the live upgrade timeline -----------------------------------------------------------------

def test_timeline_adds_events_as_they_come_and_takes_the_result_at_the_end(widgets_mode):
    live = timeline.Timeline("user", "v1.36.0")
    assert "aks-upgrade-timeline" in live.widget._dom_classes
    live.add(upgrade.Event(0.5, upgrade.SURGE_ADDED, "user-2"))
    assert "running, 1 event(s) so far" in common.text_of(live.answer)
    assert "surge-added" in live.table.value
    live.add(upgrade.Event(1.0, upgrade.REIMAGED, "user-0", "v1.35.0 -> v1.36.0"))
    live.finish([*live.events, upgrade.Event(2.0, upgrade.DONE, "user", "Succeeded: 2/2")])
    assert common.text_of(live.answer) == (
        "upgrade of node pool 'user' to v1.36.0: Succeeded: 2/2; 1 node(s) reimaged (user-0)")
    assert live.table.value.count("<tr>") == 4  # header and three events


# -- headless or not ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False),
                                             ("false", False)])
def test_the_environment_variable_decides(monkeypatch, value, expected):
    monkeypatch.setenv(common.HEADLESS_ENV, value)
    assert common.headless() is expected


def test_a_runs_kernels_are_headless_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(common.HEADLESS_ENV, raising=False)
    monkeypatch.setattr(frontend, "in_kernel", lambda: True)
    monkeypatch.delenv(frontend.RUN_DIR_ENV, raising=False)
    assert not common.headless()  # JupyterLab
    monkeypatch.setenv(frontend.RUN_DIR_ENV, "/tmp/runs/local/x")
    assert common.headless()  # aks-runbook run (papermill)
    monkeypatch.setenv(common.HEADLESS_ENV, "0")
    assert not common.headless()


def test_outside_a_kernel_widgets_are_headless(monkeypatch, capsys, voting):
    monkeypatch.delenv(common.HEADLESS_ENV, raising=False)
    assert common.headless()  # pytest is no Jupyter kernel
    assert explorer.reachability_explorer(voting) is None
    assert timeline.upgrade_timeline("user", "v1.36.0") is None
    out = capsys.readouterr().out
    assert out.startswith("reachability explorer: what switching each policy off changes")
    assert "TCP/6379" in out  # the matrix


def test_shown_widget_carries_the_headless_text_as_its_plain_text(monkeypatch, voting):
    monkeypatch.setenv(common.HEADLESS_ENV, "0")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    widget = explorer.reachability_explorer(voting)
    assert widget is not None
    bundle = shown[0]
    assert bundle["text/plain"] == explorer.headless_text(voting)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        widget.widget.model_id


# -- progress ----------------------------------------------------------------------------------

def test_progress_in_a_headless_kernel_is_silent(monkeypatch, capsys):
    from aks_runbook import progress

    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    monkeypatch.setenv(common.HEADLESS_ENV, "1")
    shown = progress.bar(total=3, desc="nodes Ready")
    assert shown.disable
    with progress.ticking(shown):
        shown.update(3)
    shown.close()
    assert capsys.readouterr() == ("", "")


def test_progress_in_a_kernel_with_a_front_end_is_a_widget(monkeypatch):
    from tqdm.notebook import tqdm as notebook_bar

    from aks_runbook import progress

    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    monkeypatch.setenv(common.HEADLESS_ENV, "0")
    monkeypatch.setattr("tqdm.notebook.display", lambda *args, **kwargs: None)
    shown = progress.bar(total=2, desc="nodes Ready", file=None)
    shown.update(2)
    shown.refresh()
    assert isinstance(shown, notebook_bar) and not shown.leave
    assert shown.container.children[1].value == 2  # the widget's progress bar
    shown.close()


def test_progress_in_a_terminal_is_unchanged(monkeypatch, capsys):
    from aks_runbook import progress

    monkeypatch.setenv(common.HEADLESS_ENV, "1")  # only kernels read it
    shown = progress.bar(total=1, desc="build x", file=__import__("sys").stderr)
    assert not shown.disable
    shown.update(1)
    shown.close()
    assert "build x: 100%" in capsys.readouterr().err
