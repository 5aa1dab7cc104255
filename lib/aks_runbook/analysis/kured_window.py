"""Whether kured may reboot nodes only inside the node OS maintenance window.

kured reboots a node when the moment, in its `--time-zone` (default UTC), falls on one of its
`--reboot-days` (default every day) between `--start-time` (default 0:00) and `--end-time`
(default 23:59:59); a start after the end wraps past midnight, and the day is the moment's own
weekday (kured's pkg/timewindow). kured also counts the end's last second; it checks only every
`--period` (an hour by default), so a window is judged to the minute. Its Helm chart sets the
same flags from `configuration.rebootDays|startTime|endTime|timeZone`. kured knows nothing of
AKS's windows or their `notAllowedDates`, so every moment it may reboot must lie inside an
opening of the plan's `aksManagedNodeOSUpgradeSchedule` window (AKS docs: "Handle Linux node
reboots with kured"; "Use Planned Maintenance to Schedule and Control Upgrades for Azure
Kubernetes Service (AKS) Clusters").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aks_runbook.analysis.rollout import Verdict, Window, occurrences

DAY_NAMES = {name: index for index, names in enumerate((
    ("mo", "mon", "monday"), ("tu", "tue", "tuesday"), ("we", "wed", "wednesday"),
    ("th", "thu", "thursday"), ("fr", "fri", "friday"), ("sa", "sat", "saturday"),
    ("su", "sun", "sunday"))) for name in names}
NODE_OS = "aksManagedNodeOSUpgradeSchedule"


class KuredConfigError(ValueError):
    """A kured setting that cannot be read: names the flag and what is allowed."""


@dataclass(frozen=True)
class RebootWindow:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    zone: tzinfo
    zone_name: str

    def describe(self) -> str:
        days = ",".join(("mo", "tu", "we", "th", "fr", "sa", "su")[d] for d in sorted(self.days))
        return (f"{days} {self.start:%H:%M}–{self.end:%H:%M} {self.zone_name}")

    def intervals(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """The spans in which kured may reboot, for local days first … last."""
        spans = []
        day = first
        while day <= last:
            if day.weekday() in self.days:
                midnight = datetime.combine(day, time(), self.zone)
                start = datetime.combine(day, self.start, self.zone)
                end = datetime.combine(day, self.end, self.zone)
                if self.start <= self.end:
                    spans.append((start, end))
                else:  # wraps: the small hours and the late evening of the same weekday
                    spans += [(midnight, end), (start, midnight + timedelta(days=1))]
            day += timedelta(days=1)
        return spans


def _clock(text: str, flag: str) -> time:
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?", text.strip())
    if not match or int(match[1]) > 23:
        raise KuredConfigError(f"kured {flag}: {text!r} is not a time such as 22:00")
    return time(int(match[1]), int(match[2] or 0), int(match[3] or 0))


def reboot_window(days: Iterable[str] | str | None = None, start: str | None = None,
                  end: str | None = None, zone: str | None = None) -> RebootWindow:
    """kured's window from its settings; a missing setting takes kured's default."""
    if isinstance(days, str):
        days = [d for d in re.split(r"[,\s{}]+", days) if d]
    chosen = set()
    for day in days or DAY_NAMES:
        if day.lower() not in DAY_NAMES:
            raise KuredConfigError(f"kured --reboot-days: {day!r} is not a day such as "
                                   f"mo, tue or sunday")
        chosen.add(DAY_NAMES[day.lower()])
    zone_name = zone or "UTC"
    if zone_name == "Local":
        raise KuredConfigError("kured --time-zone: Local depends on the node; name a zone "
                               "such as Asia/Tokyo or UTC")
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KuredConfigError(f"kured --time-zone: {zone_name!r} is not an IANA time zone "
                               f"such as Asia/Tokyo") from None
    return RebootWindow(frozenset(chosen), _clock(start or "0:00", "--start-time"),
                        _clock(end or "23:59:59", "--end-time"), tz, zone_name)


def from_args(args: Iterable[str]) -> RebootWindow:
    """From the DaemonSet container's command and args (`--flag=value` or `--flag value`)."""
    words, values = list(args), {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            flag, eq, value = word.partition("=")
            if not eq and i + 1 < len(words) and not words[i + 1].startswith("--"):
                value = words[i + 1]
            values[flag] = value
    return reboot_window(values.get("--reboot-days"), values.get("--start-time"),
                         values.get("--end-time"), values.get("--time-zone"))


def from_manifest(objects: Iterable[Mapping]) -> RebootWindow:
    """From the kured DaemonSet among manifest objects."""
    for obj in objects:
        if obj.get("kind") != "DaemonSet":
            continue
        for container in obj["spec"]["template"]["spec"].get("containers", []):
            args = [*container.get("command", []), *container.get("args", [])]
            if any("kured" in a for a in args[:1]) or container.get("name") == "kured":
                return from_args(args)
    raise KuredConfigError("no kured DaemonSet among the manifest's objects")


def _helm_sets(command: str) -> dict[str, str]:
    words, values = shlex.split(command), {}
    for i, word in enumerate(words):
        if word in ("--set", "--set-string") and i + 1 < len(words):
            for item in re.split(r",(?![^{]*})", words[i + 1]):
                key, _, value = item.partition("=")
                values[key.replace("\\", "")] = value
    return values


def from_helm_command(command: str) -> RebootWindow:
    """From a `helm upgrade --install … kubereboot/kured --set configuration.…` line."""
    sets = _helm_sets(command)
    days = sets.get("configuration.rebootDays") or ",".join(
        v for k, v in sorted(sets.items()) if k.startswith("configuration.rebootDays["))
    return reboot_window(days or None, sets.get("configuration.startTime"),
                         sets.get("configuration.endTime"), sets.get("configuration.timeZone"))


def from_plan(steps: Iterable) -> RebootWindow:
    """From the plan's `helm upgrade --install … kured` step (any object with a `command`)."""
    for step in steps:
        words = step.command.split()
        if words[:1] == ["helm"] and any(w.endswith("/kured") for w in words):
            return from_helm_command(step.command)
    raise KuredConfigError("the plan installs no kured (it does only for the node OS channel "
                           "Unmanaged)")


def _uncovered(begin: datetime, end: datetime,
               openings: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The parts of [begin, end) that no opening covers."""
    gaps, cursor = [], begin
    for opens, closes in sorted(openings):
        if closes <= cursor or opens >= end:
            continue
        if opens > cursor:
            gaps.append((cursor, opens))
        cursor = max(cursor, closes)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def inside_node_os_window(kured: RebootWindow, windows: Mapping[str, Window], start: date,
                          weeks: int = 4) -> Verdict:
    """Pass only if every moment kured may reboot, over `weeks` from `start`, lies inside an
    opening of the node OS maintenance window that no change freeze removes."""
    window = windows.get(NODE_OS)
    if window is None:
        return Verdict(False, f"kured inside the node OS window: FAIL — the plan has no "
                              f"{NODE_OS} window, so kured ({kured.describe()}) is bounded by "
                              f"nothing AKS knows")
    found = occurrences("plan", {NODE_OS: window}, start - timedelta(days=1), weeks + 1)
    openings = [(o.opens, o.closes) for o in found if not o.frozen_by]
    frozen = [(o.opens, o.closes, o.frozen_by) for o in found if o.frozen_by]
    outside, in_freeze = [], set()
    for begin, end in kured.intervals(start, start + timedelta(weeks=weeks, days=-1)):
        for gap in _uncovered(begin, end, openings):
            freeze = next((f for opens, closes, f in frozen
                           if opens <= gap[0] and gap[1] <= closes), None)
            if freeze:
                in_freeze.add(freeze)
            else:
                outside.append(gap)
    zone = window.utc_offset
    shown = f"kured ({kured.describe()})"
    if outside:
        first = outside[0][0].astimezone(zone)
        return Verdict(False, f"kured inside the node OS window: FAIL — {shown} may reboot "
                              f"outside the window in {len(outside)} span(s), first at "
                              f"{first:%a %Y-%m-%d %H:%M} (UTC{first:%z})",
                       tuple(f"{a.astimezone(zone):%a %Y-%m-%d %H:%M} – "
                             f"{b.astimezone(zone):%a %H:%M}" for a, b in outside[:5]))
    if in_freeze:
        dates = ", ".join(f"{a}…{b}" for a, b in sorted(in_freeze))
        return Verdict(False, f"kured inside the node OS window: FAIL — {shown} follows the "
                              f"window's schedule but knows nothing of its change freeze "
                              f"({dates}): it would reboot nodes in the freeze; hold its lock "
                              f"for those dates")
    return Verdict(True, f"kured inside the node OS window: pass — every reboot {shown} may "
                         f"start over {weeks} weeks from {start} falls inside an opening of "
                         f"{NODE_OS}")
