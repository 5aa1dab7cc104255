"""What a person sees for a connection the analysis cannot decide (a Cilium L7 rule): the
matrix, the explorer and the CLI say so; none of them shows it as denied ("-", "no
connection allowed"), which would read as safe."""

from __future__ import annotations

from aks_runbook.analysis.reachability import Analyzer, Pod
from aks_runbook.notebook import views
from aks_runbook.notebook.widgets.reachability import Explorer, policy_name

FRONT = Pod("default", "front", {"role": "frontend"})
BACK = Pod("default", "back", {"role": "backend"})
L7 = {"kind": "CiliumNetworkPolicy", "metadata": {"name": "l7", "namespace": "default"},
      "spec": {"endpointSelector": {"matchLabels": {"role": "backend"}}, "ingress": [
          {"fromEndpoints": [{"matchLabels": {"role": "frontend"}}],
           "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}],
                        "rules": {"http": [{"method": "GET"}]}}]}]}}


def test_matrix_marks_the_undecided_port_with_a_question_mark():
    frame = views.reachability_matrix(Analyzer([FRONT, BACK], {}, [L7]).matrix())
    assert frame.loc["front", "back TCP/80"] == "?"
    assert frame.loc["back", "front *"] == "allow"  # no policy isolates front


def test_explorer_says_not_modelled_and_names_the_policy():
    answer = Explorer([FRONT, BACK], {}, [L7]).answer("default/front", "default/back")
    assert answer.allowed == ()
    assert answer.ports == "no connection allowed; not modelled: TCP/80"
    assert "TCP/80: not modelled (decided by default/l7): check it by hand" in answer.text()


def test_a_decided_pair_has_no_undecided_part():
    answer = Explorer([FRONT, BACK], {}, [L7]).answer("default/back", "default/front")
    assert answer.undecided == ()


def test_clusterwide_policies_are_named_as_the_analysis_names_them():
    ccnp = {"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "deny-all"}}
    assert policy_name(ccnp) == "deny-all"
    assert policy_name(L7) == "default/l7"
