"""Who attends: rosters with bad lines are refused whole, naming every bad line."""

from __future__ import annotations

import pytest

from aks_runbook.params import load
from aks_runbook.training.roster import Attendee, RosterError, numbered, parse, read


def test_a_good_roster_gives_attendees_in_order_with_their_namespaces(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("\ufeffName, Email ,team\nalice,alice@example.com,red\nbob2,,blue\n",
                      encoding="utf-8")
    assert read(roster) == [Attendee("alice", "alice@example.com"), Attendee("bob2")]
    assert read(roster)[1].namespace == "training-bob2"


def test_every_bad_line_is_named_with_its_number():
    text = ("name,email\n"
            "alice,alice@example.com\n"   # 2 ok
            "\n"                          # 3 empty
            "Bob Smith,bob@example.com\n"  # 4 not a usable name
            "alice,\n"                    # 5 duplicate of 2
            "carol\n"                     # 6 missing column
            "dave,not-an-address\n"       # 7 bad email
            ",x@example.com\n"            # 8 empty name
            "x,\n")                       # 9 too short for a prefix
    with pytest.raises(RosterError) as raised:
        parse(text, "class.csv")
    message = str(raised.value)
    assert message.startswith("7 bad line(s) in the roster; nothing was created")
    for expected in ("class.csv line 3: empty line",
                     "class.csv line 4: name 'Bob Smith' cannot be used: it must be 2-10 "
                     "lower-case letters or digits, starting with a letter",
                     "class.csv line 5: name 'alice' is a duplicate of line 2",
                     "class.csv line 6: 1 field(s), the header has 2 (name, email)",
                     "class.csv line 7: email 'not-an-address' is not an address",
                     "class.csv line 8: empty name",
                     "class.csv line 9: name 'x' cannot be used"):
        assert expected in message
    assert "line 2" not in message.replace("duplicate of line 2", "")


def test_a_roster_without_a_name_column_or_without_attendees_is_refused(tmp_path):
    with pytest.raises(RosterError, match="line 1: no 'name' column in the header 'email'"):
        parse("email\na@example.com\n")
    with pytest.raises(RosterError, match="no attendees"):
        parse("name,email\n")
    with pytest.raises(RosterError, match="line 1: expected a header line"):
        parse("")
    with pytest.raises(RosterError, match="nowhere.csv: no such file"):
        read(tmp_path / "nowhere.csv")


def test_numbered_attendees_and_the_limits_of_a_count():
    assert [a.name for a in numbered(3)] == ["attendee01", "attendee02", "attendee03"]
    assert numbered(99)[-1].name == "attendee99"
    for bad in (0, 100, -1):
        with pytest.raises(RosterError, match=f"--attendees {bad}: must be 1-99"):
            numbered(bad)


@pytest.mark.parametrize("name", ["ab", "attendee99", "z0z0z0z0z0"])
def test_every_accepted_name_is_a_valid_prefix_and_namespace(name):
    attendee = parse(f"name\n{name}\n")[0]
    env = load({"environment": "training", "prefix": attendee.name,
                "namespace": attendee.namespace})
    assert env.prefix == name and env.namespace == f"training-{name}"
