"""An attendee's Ingress hosts are put under their prefix, which the training's admission
policy requires (other hosts are refused), so the chapters' voting app applies as it is."""

from aks_runbook.notebook import attendee


def test_ingress_rules_and_tls_hosts_get_the_attendees_prefix():
    ingress = {"kind": "Ingress", "spec": {
        "rules": [{"host": "vote.example.com"}, {"http": {}}],
        "tls": [{"hosts": ["vote.example.com"], "secretName": "vote-tls"}]}}
    attendee.own_hosts(ingress, "alice")
    assert ingress["spec"]["rules"] == [{"host": "alice-vote.example.com"}, {"http": {}}]
    assert ingress["spec"]["tls"] == [{"hosts": ["alice-vote.example.com"],
                                       "secretName": "vote-tls"}]


def test_other_kinds_are_left_alone():
    service = {"kind": "Service", "spec": {"rules": [{"host": "vote.example.com"}]}}
    attendee.own_hosts(service, "alice")
    assert service["spec"]["rules"] == [{"host": "vote.example.com"}]
