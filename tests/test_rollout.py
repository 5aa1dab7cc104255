"""Maintenance windows read from plan lines: when they open, freezes, and dev before prod."""

import json
from datetime import UTC, date, timedelta, timezone
from types import SimpleNamespace

import pytest

from aks_runbook.analysis import rollout

JST = timezone(timedelta(hours=9))
MONDAY = date(2026, 12, 14)
NAMES = ("default", "aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")


def line(name: str, day: str, start: str, hours: int = 4, offset: str = "+09:00",
         extra: str = "") -> str:
    interval = "" if name == "default" else "--interval-weeks 1"
    return (f"az aks maintenanceconfiguration add --resource-group rg --cluster-name aks "
            f"--name {name} --schedule-type Weekly --day-of-week {day} {interval} "
            f"--start-time {start} --duration {hours} --utc-offset {offset} {extra}")


def plan(day: str, start: str, hours: int = 4, names=NAMES, **extra) -> dict:
    steps = [SimpleNamespace(command=line(n, day, start, hours, **extra)) for n in names]
    steps.append(SimpleNamespace(command="az aks show --resource-group rg --name aks"))
    return rollout.windows(steps)


def freeze_file(name: str, day: str, start: str, ranges) -> dict:
    return {"properties": {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": day}},
        "durationHours": 4, "utcOffset": "+09:00", "startTime": start,
        "notAllowedDates": [{"start": a, "end": b} for a, b in ranges]}}}


def plan_with_freeze(day: str, start: str, ranges) -> dict:
    files = {f"{n}.json": freeze_file(n, day, start, ranges) for n in NAMES}
    steps = [SimpleNamespace(command=f"az aks maintenanceconfiguration add -g rg "
                                     f"--cluster-name aks --name {n} --config-file {n}.json")
             for n in NAMES]
    return rollout.windows(steps, files)


YEAR_END = [("2026-12-26", "2027-01-04")]


def test_the_review_s_inverted_order_fails():
    # M9: prod Saturday 02:00, dev Sunday 01:00: prod gets each week's release first
    verdict = rollout.dev_first(plan("Sunday", "01:00"), plan("Saturday", "02:00", 6), MONDAY)
    assert not verdict.passed
    assert "FAIL" in verdict.line
    assert any("prod's window comes first" in p and "14%" in p for p in verdict.problems)


def test_staggered_windows_dev_tuesday_prod_thursday_pass():
    verdict = rollout.dev_first(plan("Tuesday", "10:00"), plan("Thursday", "10:00"), MONDAY)
    assert verdict.passed, str(verdict)
    assert "71%" in verdict.line and "Fleet Manager" in verdict.line


def test_swapping_the_environments_turns_the_pass_into_a_fail():
    verdict = rollout.dev_first(plan("Thursday", "10:00"), plan("Tuesday", "10:00"), MONDAY)
    assert not verdict.passed
    assert any("29%" in p for p in verdict.problems)


def test_too_little_soak_between_dev_and_prod_fails():
    verdict = rollout.dev_first(plan("Tuesday", "01:00"), plan("Tuesday", "20:00"), MONDAY)
    assert not verdict.passed
    assert any("closes only 15 h before prod's" in p for p in verdict.problems)


def test_the_same_window_for_both_fails():
    verdict = rollout.dev_first(plan("Sunday", "01:00"), plan("Sunday", "01:00"), MONDAY)
    assert not verdict.passed


def test_dev_every_other_week_leaves_prod_windows_without_dev():
    dev = plan("Tuesday", "10:00", names=("default",))
    auto = rollout.from_command(line("aksManagedAutoUpgradeSchedule", "Tuesday", "10:00")
                                .replace("--interval-weeks 1", "--interval-weeks 2")
                                + " --start-date 2026-12-01")
    verdict = rollout.dev_first({**dev, auto.config: auto},
                                plan("Thursday", "10:00",
                                     names=("default", "aksManagedAutoUpgradeSchedule")), MONDAY)
    assert not verdict.passed
    assert any(p.startswith("aksManagedAutoUpgradeSchedule: prod's window")
               and "no dev window since" in p for p in verdict.problems)
    assert not any(p.startswith("default") for p in verdict.problems)


def test_an_interval_without_a_start_date_cannot_be_ordered():
    auto = rollout.from_command(line("aksManagedAutoUpgradeSchedule", "Tuesday", "10:00")
                                .replace("--interval-weeks 1", "--interval-weeks 2"))
    prod = plan("Thursday", "10:00", names=("aksManagedAutoUpgradeSchedule",))
    verdict = rollout.dev_first({auto.config: auto}, prod, MONDAY)
    assert not verdict.passed
    assert any("without a start date" in p for p in verdict.problems)


@pytest.mark.parametrize("missing_in", ["dev", "prod"])
def test_a_kind_of_window_missing_in_one_environment_fails(missing_in):
    full = plan("Tuesday", "10:00")
    partial = plan("Thursday", "10:00", names=NAMES[:2])
    dev, prod = (partial, plan("Thursday", "10:00")) if missing_in == "dev" else (full, partial)
    verdict = rollout.dev_first(dev, prod, MONDAY)
    assert not verdict.passed
    assert any(p.startswith(f"aksManagedNodeOSUpgradeSchedule: {missing_in} has no window")
               for p in verdict.problems)


def test_no_windows_at_all_is_not_a_pass():
    verdict = rollout.dev_first({}, {}, MONDAY)
    assert not verdict.passed
    assert len(verdict.problems) == 3


def test_a_kind_missing_in_both_environments_is_not_ordered():
    names = ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")
    verdict = rollout.dev_first(plan("Tuesday", "10:00", names=names),
                                plan("Thursday", "10:00", names=names), MONDAY)
    assert not verdict.passed
    assert verdict.problems == ("default: neither has a window, so AKS may update both at any "
                                "time, in any order",)


def test_year_end_freeze_removes_the_windows_inside_it():
    windows = plan_with_freeze("Sunday", "01:00", YEAR_END)
    found = rollout.occurrences("prod", windows, MONDAY, 5)
    frozen = sorted({o.opens.date() for o in found if o.frozen_by})
    opens = sorted({o.opens.date() for o in found if not o.frozen_by})
    assert frozen == [date(2026, 12, 27), date(2027, 1, 3)]
    assert opens == [date(2026, 12, 20), date(2027, 1, 10), date(2027, 1, 17)]
    rows = rollout.table(found, JST)
    assert {r["status"] for r in rows} == {
        "opens", "frozen (notAllowedDates 2026-12-26…2027-01-04)"}
    assert rollout.freezes(windows)[0] == ("aksManagedAutoUpgradeSchedule", date(2026, 12, 26),
                                           date(2027, 1, 4))


def test_a_window_that_runs_into_the_freeze_is_frozen_too():
    window = rollout.from_configuration("default", {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Friday"}},
        "durationHours": 6, "utcOffset": "+09:00", "startTime": "22:00",
        "notAllowedDates": [{"start": "2026-12-26", "end": "2027-01-04"}]}})
    found = rollout.occurrences("prod", {"default": window}, MONDAY, 2)
    assert [(o.opens.date(), bool(o.frozen_by)) for o in found] == [
        (date(2026, 12, 18), False), (date(2026, 12, 25), True)]


def test_freeze_in_both_environments_keeps_the_order():
    dev = plan_with_freeze("Tuesday", "10:00", YEAR_END)
    prod = plan_with_freeze("Thursday", "10:00", YEAR_END)
    assert rollout.dev_first(dev, prod, MONDAY).passed


def test_freeze_only_in_dev_lets_prod_update_without_dev_first():
    dev = plan_with_freeze("Tuesday", "10:00", YEAR_END)
    verdict = rollout.dev_first(dev, plan("Thursday", "10:00"), MONDAY)
    assert not verdict.passed
    assert any("Thu 2026-12-31 10:00 comes with no dev window" in p for p in verdict.problems)


def test_times_are_shown_in_the_offset_asked_for():
    found = rollout.occurrences("dev", plan("Monday", "01:00", names=("default",)), MONDAY, 1)
    assert rollout.table(found, JST)[0]["opens"] == "Mon 2026-12-14 01:00"
    utc = rollout.table(found, UTC)[0]
    assert (utc["opens"], utc["time zone"]) == ("Sun 2026-12-13 16:00", "UTC+00:00")


def test_monthly_schedules():
    last_sunday = rollout.from_configuration("aksManagedAutoUpgradeSchedule", {
        "maintenanceWindow": {"schedule": {"relativeMonthly": {
            "intervalMonths": 1, "dayOfWeek": "Sunday", "weekIndex": "Last"}},
            "durationHours": 4, "startTime": "01:00"}})
    first_tuesday = rollout.from_command(
        "az aks maintenanceconfiguration add -g rg --cluster-name aks "
        "--name aksManagedAutoUpgradeSchedule --schedule-type RelativeMonthly "
        "--interval-months 1 --day-of-week Tuesday --week-index First --start-time 10:00 "
        "--duration 4")
    fifteenth = rollout.from_command(
        "az aks maintenanceconfiguration add -g rg --cluster-name aks "
        "--name aksManagedNodeOSUpgradeSchedule --schedule-type AbsoluteMonthly "
        "--interval-months 1 --day-of-month 15 --start-time 10:00 --duration 4")
    start = date(2026, 12, 1)
    days = lambda w: [o.opens.date() for o in rollout.occurrences("x", {w.config: w}, start, 9)]  # noqa: E731
    assert days(last_sunday) == [date(2026, 12, 27), date(2027, 1, 31)]
    assert days(first_tuesday) == [date(2026, 12, 1), date(2027, 1, 5)]
    assert days(fifteenth) == [date(2026, 12, 15), date(2027, 1, 15)]


def test_monthly_auto_upgrade_dev_first_tuesday_prod_third_tuesday():
    def monthly(index):
        return {"aksManagedAutoUpgradeSchedule": rollout.from_command(
            "az aks maintenanceconfiguration add -g rg --cluster-name aks "
            "--name aksManagedAutoUpgradeSchedule --schedule-type RelativeMonthly "
            f"--interval-months 1 --day-of-week Tuesday --week-index {index} "
            "--start-time 10:00 --duration 4 --utc-offset +09:00")}
    auto = ("aksManagedAutoUpgradeSchedule",)
    assert rollout.dev_first(monthly("First"), monthly("Third"), MONDAY, weeks=12,
                             kinds=auto).passed
    assert not rollout.dev_first(monthly("Third"), monthly("First"), MONDAY, weeks=12,
                                 kinds=auto).passed


@pytest.mark.parametrize("command, message", [
    (line("aksManagedClusterAutoUpgradeSchedule", "Sunday", "01:00"),
     "'aksManagedClusterAutoUpgradeSchedule' is not one of default"),
    (line("default", "Sundy", "01:00"), "day of week 'Sundy' is not one of Monday"),
    (line("default", "Sunday", "25:00"), "start time '25:00' is not HH:MM"),
    (line("default", "Sunday", "01:00", offset="+9"), "utc offset '+9' is not ±HH:MM"),
    ("az aks maintenanceconfiguration add -g rg --cluster-name aks --name default "
     "--schedule-type Weekly --day-of-week Sunday --duration 4", "the line has no --start-time"),
    ("az aks maintenanceconfiguration add -g rg --cluster-name aks --name default "
     "--config-file missing.json", "--config-file missing.json is not among the plan's files"),
])
def test_bad_lines_name_the_configuration_and_the_field(command, message):
    with pytest.raises(rollout.WindowError, match="maintenance configuration") as error:
        rollout.from_command(command)
    assert message in str(error.value)


def test_config_file_given_as_json_text():
    text = json.dumps(freeze_file("default", "Sunday", "01:00", YEAR_END))
    window = rollout.from_command("az aks maintenanceconfiguration add -g rg --cluster-name aks "
                                  "--name default --config-file default.json",
                                  {"default.json": text})
    assert window.not_allowed == ((date(2026, 12, 26), date(2027, 1, 4)),)


def test_a_span_too_short_for_a_monthly_window_is_not_a_pass():
    def monthly(index):
        return {"aksManagedAutoUpgradeSchedule": rollout.from_command(
            "az aks maintenanceconfiguration add -g rg --cluster-name aks "
            "--name aksManagedAutoUpgradeSchedule --schedule-type RelativeMonthly "
            f"--interval-months 3 --day-of-week Tuesday --week-index {index} "
            "--start-time 10:00 --duration 4 --start-date 2026-01-01")}
    verdict = rollout.dev_first(monthly("First"), monthly("Third"), MONDAY, weeks=1)
    assert not verdict.passed
    assert any("too short" in p for p in verdict.problems)


def test_listing_an_every_other_week_window_without_start_date_uses_the_first_day():
    auto = rollout.from_command(line("aksManagedAutoUpgradeSchedule", "Tuesday", "10:00")
                                .replace("--interval-weeks 1", "--interval-weeks 2"))
    found = rollout.occurrences("dev", {auto.config: auto}, MONDAY, 4)
    assert [o.opens.date() for o in found] == [date(2026, 12, 15), date(2026, 12, 29)]
