"""Attendee mode's decisions, made in one place (notebook.attendee.Scope): what an attendee's
session may touch, and that an operator's session is not confined at all."""

from __future__ import annotations

import socket

from aks_runbook.notebook.attendee import RESTRICTED_NOTE, Scope

ATTENDEE = Scope("trainee-a", "a01")
OPERATOR = Scope(None, "demo")


def test_cluster_wide_steps_are_the_trainers_demo(capsys):
    assert OPERATOR.allows("the nodes by pool") is True
    assert capsys.readouterr().out == ""
    assert ATTENDEE.allows("the nodes by pool") is False
    assert capsys.readouterr().out == "trainer's demo: the nodes by pool, not run for attendees\n"


def test_impersonation_is_a_demo_and_kubectl_run_gets_the_restricted_defaults(capsys):
    scope = Scope("trainee-a", "a01")
    assert OPERATOR.kubectl("auth can-i get pods --as jane") == "auth can-i get pods --as jane"
    assert scope.kubectl("auth can-i get pods --as jane") is None
    assert "(impersonation)" in capsys.readouterr().out
    args = scope.kubectl("run probe --image=busybox")
    assert args.startswith("run probe --image=busybox --override-type=strategic --overrides=")
    assert '"runAsNonRoot": true' in args and '"drop": ["ALL"]' in args
    scope.kubectl("run again --image=busybox")
    assert capsys.readouterr().out.count(RESTRICTED_NOTE) == 1  # said once per session


def test_manifests_lose_their_namespace_and_take_the_attendees_hosts(capsys):
    scope = Scope("trainee-b", "b02")
    docs = [{"kind": "Namespace", "metadata": {"name": "azure-vote"}},
            {"kind": "Ingress", "metadata": {"name": "vote"},
             "spec": {"rules": [{"host": "vote.example.com"}],
                      "tls": [{"hosts": ["vote.example.com"]}]}},
            {"kind": "Pod", "metadata": {"name": "p"},
             "spec": {"containers": [{"name": "c", "image": "x"}]}}]
    kept = scope.documents([dict(d) for d in docs])
    assert [d["kind"] for d in kept] == ["Ingress", "Pod"]
    assert kept[0]["spec"]["rules"][0]["host"] == "b02-vote.example.com"
    assert kept[0]["spec"]["tls"][0]["hosts"] == ["b02-vote.example.com"]
    assert kept[1]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert RESTRICTED_NOTE in capsys.readouterr().out
    assert OPERATOR.documents(docs) == docs


def test_reset_and_cleanup_remove_only_the_attendees_objects():
    assert OPERATOR.removal("azure-vote") == "namespace"
    assert ATTENDEE.removal("trainee-a") == "objects"
    assert ATTENDEE.removal("azure-vote") == "nothing"


def test_lists_stay_in_the_attendees_namespace(capsys):
    call, _ = ATTENDEE.listing("pods", None)
    assert call == "list pods --namespace trainee-a"
    assert ATTENDEE.listing("nodes", None) is None
    assert "list nodes (cluster-wide)" in capsys.readouterr().out
    assert OPERATOR.listing("nodes", None)[0] == "list nodes"


def test_port_forwards_of_neighbours_do_not_collide():
    assert OPERATOR.local_port(8080, replay=False) == 8080
    with socket.socket() as taken:  # another run's port-forward, or any program, holds it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert OPERATOR.local_port(busy, replay=False) != busy
        assert OPERATOR.local_port(busy, replay=True) == busy
    assert ATTENDEE.local_port(8080, replay=True) == 8080  # a replay keeps the recorded port
    assert ATTENDEE.local_port(8080, replay=False) != 8080
