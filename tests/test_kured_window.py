"""kured's reboot window against the node OS maintenance window."""

from datetime import date
from types import SimpleNamespace

import pytest

from aks_runbook import params, paths
from aks_runbook.analysis import kured_window, rollout
from aks_runbook.azure import plan as azplan

MONDAY = date(2026, 12, 14)


def node_os(day="Sunday", start="01:00", hours=4, offset="+09:00", freeze=None):
    body = {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": day}},
        "durationHours": hours, "utcOffset": offset, "startTime": start}}
    if freeze:
        body["maintenanceWindow"]["notAllowedDates"] = [{"start": freeze[0], "end": freeze[1]}]
    return {"aksManagedNodeOSUpgradeSchedule": rollout.from_configuration(
        "aksManagedNodeOSUpgradeSchedule", body)}


def kured(*args):
    return kured_window.from_args(["/usr/bin/kured", "--period=1h", *args])


def test_aligned_window_in_tokyo_time_passes():
    reboots = kured("--reboot-days=su", "--start-time=01:30", "--end-time=04:30",
                    "--time-zone=Asia/Tokyo")
    verdict = kured_window.inside_node_os_window(reboots, node_os(), MONDAY)
    assert verdict.passed, str(verdict)


def test_the_same_clock_times_in_utc_are_nine_hours_off():
    reboots = kured("--reboot-days=su", "--start-time=01:30", "--end-time=04:30")  # UTC default
    verdict = kured_window.inside_node_os_window(reboots, node_os(), MONDAY)
    assert not verdict.passed
    assert "Sun 2026-12-20 10:30" in verdict.line


def test_kured_defaults_reboot_any_time_and_fail():
    verdict = kured_window.inside_node_os_window(kured(), node_os(), MONDAY)
    assert not verdict.passed
    assert "mo,tu,we,th,fr,sa,su 00:00–23:59 UTC" in verdict.line


def test_end_past_the_window_fails_by_the_minutes_outside():
    reboots = kured("--reboot-days", "sunday", "--start-time", "01:00", "--end-time", "05:30",
                    "--time-zone", "Asia/Tokyo")
    verdict = kured_window.inside_node_os_window(reboots, node_os(), MONDAY)
    assert not verdict.passed
    assert verdict.problems[0].startswith("Sun 2026-12-20 05:00")


def test_a_window_wrapping_midnight_follows_kured_s_own_rule():
    # 22:00-02:00 on Saturdays means Sat 00:00-02:00 and Sat 22:00-24:00 (the moment's weekday)
    reboots = kured("--reboot-days=sa", "--start-time=22:00", "--end-time=02:00",
                    "--time-zone=Asia/Tokyo")
    inside = node_os(day="Friday", start="23:00", hours=24)  # Fri 23:00 - Sat 23:00
    verdict = kured_window.inside_node_os_window(reboots, inside, MONDAY)
    assert not verdict.passed
    assert verdict.problems[0].startswith("Sat 2026-12-19 23:00")
    whole_saturday = node_os(day="Saturday", start="00:00", hours=24)
    assert kured_window.inside_node_os_window(reboots, whole_saturday, MONDAY).passed


def test_kured_ignores_change_freezes_so_a_frozen_window_fails():
    reboots = kured("--reboot-days=su", "--start-time=01:30", "--end-time=04:30",
                    "--time-zone=Asia/Tokyo")
    frozen = node_os(freeze=("2026-12-26", "2027-01-04"))
    verdict = kured_window.inside_node_os_window(reboots, frozen, MONDAY)
    assert not verdict.passed
    assert "knows nothing of its change freeze (2026-12-26…2027-01-04)" in verdict.line
    assert "hold its lock" in verdict.line
    after = kured_window.inside_node_os_window(reboots, frozen, date(2027, 1, 11))
    assert after.passed, str(after)


def test_no_node_os_window_fails():
    windows = {"default": node_os()["aksManagedNodeOSUpgradeSchedule"]}
    verdict = kured_window.inside_node_os_window(kured("--reboot-days=su"), windows, MONDAY)
    assert not verdict.passed and "has no aksManagedNodeOSUpgradeSchedule" in verdict.line


def test_helm_values_and_manifest_give_the_same_window():
    helm = kured_window.from_helm_command(
        "helm upgrade --install kured kubereboot/kured --namespace kured "
        "--set image.repository=acrteam1dev.azurecr.io/kubereboot/kured "
        "--set configuration.rebootDays={su},configuration.timeZone=Asia/Tokyo "
        "--set configuration.startTime=01:30 --set configuration.endTime=04:30")
    manifest = kured_window.from_manifest([
        {"kind": "ServiceAccount"},
        {"kind": "DaemonSet", "spec": {"template": {"spec": {"containers": [
            {"name": "kured", "command": ["/usr/bin/kured"],
             "args": ["--reboot-days=su", "--start-time=01:30", "--end-time=04:30",
                      "--time-zone=Asia/Tokyo"]}]}}}}])
    assert helm == manifest
    indexed = kured_window.from_helm_command(
        "helm install k kubereboot/kured --set configuration.rebootDays[0]=sa "
        "--set configuration.rebootDays[1]=su")
    assert indexed.days == frozenset({5, 6})


@pytest.mark.parametrize("args, message", [
    (["--reboot-days=sonntag"], "--reboot-days: 'sonntag'"),
    (["--start-time=25:00"], "--start-time: '25:00'"),
    (["--time-zone=Tokyo"], "--time-zone: 'Tokyo'"),
    (["--time-zone=Local"], "Local depends on the node"),
])
def test_bad_settings_name_the_flag(args, message):
    with pytest.raises(kured_window.KuredConfigError, match="kured") as error:
        kured(*args)
    assert message in str(error.value)


def test_no_daemonset_in_the_manifest():
    with pytest.raises(kured_window.KuredConfigError, match="no kured DaemonSet"):
        kured_window.from_manifest([{"kind": "ConfigMap"}])


def test_from_plan_finds_the_helm_step_and_says_when_there_is_none():
    steps = [SimpleNamespace(command="az acr import --name acr --source ghcr.io/x/kured:1"),
             SimpleNamespace(command="helm upgrade --install kured kubereboot/kured "
                                     "--set configuration.rebootDays={mo} "
                                     "--set configuration.startTime=01:00 "
                                     "--set configuration.endTime=05:00 "
                                     "--set configuration.timeZone=Asia/Tokyo")]
    window = kured_window.from_plan(steps)
    assert window.describe() == "mo 01:00–05:00 Asia/Tokyo"
    with pytest.raises(kured_window.KuredConfigError, match="Unmanaged"):
        kured_window.from_plan(steps[:1])


def test_the_plan_s_own_kured_on_the_unmanaged_channel():
    # whatever the plan writes for kured must fall inside the plan's own node OS window
    env = params.load(paths.project_root() / "environments" / "aks-dev.yaml")
    unmanaged = env.model_copy(update={"upgrades": env.upgrades.model_copy(
        update={"node_os_upgrade_channel": "Unmanaged", "freezes": []})})
    plan = azplan.build(unmanaged)
    verdict = kured_window.inside_node_os_window(kured_window.from_plan(plan),
                                                 rollout.windows(plan), MONDAY)
    assert verdict.passed, str(verdict)
