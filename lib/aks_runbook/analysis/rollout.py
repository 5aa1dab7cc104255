"""When each planned maintenance window opens, and whether development goes before production.

A plan states its windows as `az aks maintenanceconfiguration add` lines (flags, or a JSON
`--config-file` whose body is the API's MaintenanceConfiguration with `notAllowedDates`).
`windows()` reads them back; `occurrences()` lists when each opens over a span of weeks, with the
dates a change freeze removes; `dev_first()` judges two environments' windows of the same kind.

What "dev first" can and cannot mean (AKS docs: "Use Planned Maintenance to Schedule and Control
Upgrades for Azure Kubernetes Service (AKS) Clusters"; "Azure Kubernetes Service (AKS) production
upgrade strategies"): AKS applies a release at the next window of each cluster, so windows make
an order likely, never certain. A release that appears between dev's window and prod's still
reaches prod first. The verdict therefore asks three things per kind of window:
- every prod window has a dev window since prod's previous one (dev never skips a cycle),
- that dev window closed at least `soak` before prod's opens (time to notice a bad release),
- dev is the leading cluster: most release times reach dev first (share of the cycle).
Only Fleet Manager update runs (stages dev → prod with a wait) make the order certain.
"""

from __future__ import annotations

import calendar
import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone

CONFIG_NAMES = ("default", "aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")
KINDS = {"default": "AKS releases (control plane, add-ons)",
         "aksManagedAutoUpgradeSchedule": "Kubernetes auto-upgrade",
         "aksManagedNodeOSUpgradeSchedule": "node OS"}
DAYS = tuple(calendar.day_name)  # Monday … Sunday, as the API spells them
WEEK_INDEX = ("First", "Second", "Third", "Fourth", "Last")
DEFAULT_SOAK = timedelta(hours=24)


class WindowError(ValueError):
    """A maintenance configuration that cannot be read: names the configuration and the field."""


@dataclass(frozen=True)
class Window:
    config: str  # one of CONFIG_NAMES
    schedule: str  # Daily | Weekly | AbsoluteMonthly | RelativeMonthly
    start_time: time
    duration: timedelta
    utc_offset: timezone
    interval: int = 1
    day_of_week: str | None = None
    day_of_month: int | None = None
    week_index: str | None = None
    start_date: date | None = None
    not_allowed: tuple[tuple[date, date], ...] = ()  # inclusive local dates

    def opens_on(self, day: date) -> bool:
        """Whether the schedule opens on this local date (before freezes are applied)."""
        anchor = self.start_date or day
        if self.start_date and day < self.start_date:
            return False
        if self.schedule == "Daily":
            return (day - anchor).days % self.interval == 0
        if self.schedule == "Weekly":
            if DAYS[day.weekday()] != self.day_of_week:
                return False
            return ((day - anchor).days // 7) % self.interval == 0
        months = (day.year - anchor.year) * 12 + day.month - anchor.month
        if months % self.interval:
            return False
        if self.schedule == "AbsoluteMonthly":
            return day.day == self.day_of_month
        if DAYS[day.weekday()] != self.day_of_week:
            return False
        if self.week_index == "Last":
            return day.month != (day + timedelta(days=7)).month
        return (day.day - 1) // 7 == WEEK_INDEX.index(self.week_index)

    def frozen(self, opens: datetime, closes: datetime) -> tuple[date, date] | None:
        """The notAllowedDates range this occurrence touches, if any."""
        for first, last in self.not_allowed:
            freeze_start = datetime.combine(first, time(), self.utc_offset)
            freeze_end = datetime.combine(last + timedelta(days=1), time(), self.utc_offset)
            if opens < freeze_end and closes > freeze_start:
                return first, last
        return None


@dataclass(frozen=True)
class Occurrence:
    environment: str
    config: str
    opens: datetime
    closes: datetime
    frozen_by: tuple[date, date] | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    line: str
    problems: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join((self.line, *(f"  - {p}" for p in self.problems)))


# ---- reading the plan ---------------------------------------------------------------------------

def _offset(text: str, where: str) -> timezone:
    try:
        sign = -1 if text.startswith("-") else 1
        hours, minutes = text.lstrip("+-").split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    except ValueError:
        raise WindowError(f"{where}: utc offset {text!r} is not ±HH:MM") from None


def _clock(text: str, where: str) -> time:
    try:
        return time.fromisoformat(text if len(text) > 4 else f"0{text}")
    except ValueError:
        raise WindowError(f"{where}: start time {text!r} is not HH:MM") from None


def _day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{where}: date {text!r} is not yyyy-MM-dd") from None


def _checked(window: Window, where: str) -> Window:
    if window.config not in CONFIG_NAMES:
        raise WindowError(f"{where}: configuration name {window.config!r} is not one of "
                          f"{', '.join(CONFIG_NAMES)}")
    needs = {"Daily": (), "Weekly": ("day_of_week",), "AbsoluteMonthly": ("day_of_month",),
             "RelativeMonthly": ("day_of_week", "week_index")}
    if window.schedule not in needs:
        raise WindowError(f"{where}: schedule type {window.schedule!r} is not one of "
                          f"{', '.join(needs)}")
    missing = [name for name in needs[window.schedule] if getattr(window, name) is None]
    if missing:
        raise WindowError(f"{where}: a {window.schedule} schedule needs {', '.join(missing)}")
    if window.day_of_week is not None and window.day_of_week not in DAYS:
        raise WindowError(f"{where}: day of week {window.day_of_week!r} is not one of "
                          f"{', '.join(DAYS)}")
    if window.week_index is not None and window.week_index not in WEEK_INDEX:
        raise WindowError(f"{where}: week index {window.week_index!r} is not one of "
                          f"{', '.join(WEEK_INDEX)}")
    if window.interval < 1:
        raise WindowError(f"{where}: interval {window.interval} must be at least 1")
    return window


def from_configuration(config: str, body: Mapping, where: str = "") -> Window:
    """A window from the API's MaintenanceConfiguration JSON (what `--config-file` holds)."""
    where = where or config
    mw = body.get("properties", body).get("maintenanceWindow")
    if not isinstance(mw, Mapping):
        raise WindowError(f"{where}: no properties.maintenanceWindow in the configuration")
    schedule = mw.get("schedule") or {}
    if len(schedule) != 1:
        raise WindowError(f"{where}: schedule needs exactly one of daily, weekly, "
                          f"absoluteMonthly, relativeMonthly")
    (kind, spec), = schedule.items()
    interval = spec.get("intervalDays") or spec.get("intervalWeeks") or spec.get("intervalMonths")
    try:
        return _checked(Window(
            config=config, schedule=kind[0].upper() + kind[1:],
            start_time=_clock(str(mw["startTime"]), where),
            duration=timedelta(hours=int(mw["durationHours"])),
            utc_offset=_offset(str(mw.get("utcOffset", "+00:00")), where),
            interval=int(interval or 1), day_of_week=spec.get("dayOfWeek"),
            day_of_month=spec.get("dayOfMonth"), week_index=spec.get("weekIndex"),
            start_date=_day(mw["startDate"], where) if mw.get("startDate") else None,
            not_allowed=tuple((_day(r["start"], where), _day(r["end"], where))
                              for r in mw.get("notAllowedDates") or ())), where)
    except KeyError as missing:
        raise WindowError(f"{where}: maintenanceWindow needs {missing.args[0]}") from None


def _flags(words: list[str]) -> dict[str, str]:
    flags, key = {}, None
    for word in words:
        if word.startswith("--"):
            key, _, value = word.partition("=")
            flags[key] = value
            key = None if value else key
        elif key:
            flags[key] = word
            key = None
    return flags


def from_command(command: str, files: Mapping[str, Mapping] | None = None) -> Window:
    """A window from one `az aks maintenanceconfiguration add|update` line; a `--config-file`
    is looked up in `files` (by path, or by configuration name)."""
    words = shlex.split(command)
    flags = _flags(words)
    config = flags.get("--name") or flags.get("-n") or flags.get("--config-name")
    if config is None and "-n" in words:
        config = words[words.index("-n") + 1]
    where = f"maintenance configuration {config!r}"
    if "--config-file" in flags:
        path = flags["--config-file"]
        body = (files or {}).get(path) or (files or {}).get(config)
        if body is None:
            raise WindowError(f"{where}: --config-file {path} is not among the plan's files")
        if isinstance(body, str):
            body = json.loads(body)
        return from_configuration(config, body, where)
    try:
        interval = (flags.get("--interval-days") or flags.get("--interval-weeks")
                    or flags.get("--interval-months") or "1")
        return _checked(Window(
            config=config, schedule=flags.get("--schedule-type", ""),
            start_time=_clock(flags["--start-time"], where),
            duration=timedelta(hours=int(flags["--duration"])),
            utc_offset=_offset(flags.get("--utc-offset", "+00:00"), where),
            interval=int(interval), day_of_week=flags.get("--day-of-week"),
            day_of_month=int(flags["--day-of-month"]) if "--day-of-month" in flags else None,
            week_index=flags.get("--week-index"),
            start_date=_day(flags["--start-date"], where) if "--start-date" in flags else None),
            where)
    except KeyError as missing:
        raise WindowError(f"{where}: the line has no {missing.args[0]}") from None


def windows(steps: Iterable, files: Mapping[str, Mapping] | None = None) -> dict[str, Window]:
    """The plan's windows by configuration name, from its `maintenanceconfiguration add` steps
    (any object with a `command`, and optionally `files`: (path, content) pairs the step writes
    before it runs); a name set twice keeps the last line, as Azure would."""
    found = {}
    for step in steps:
        words = step.command.split()
        if words[:4] in (["az", "aks", "maintenanceconfiguration", "add"],
                         ["az", "aks", "maintenanceconfiguration", "update"]):
            window = from_command(step.command, {**(files or {}),
                                                 **dict(getattr(step, "files", ()))})
            found[window.config] = window
    return found


# ---- occurrences --------------------------------------------------------------------------------

def occurrences(environment: str, plan_windows: Mapping[str, Window], start: date,
                weeks: int) -> list[Occurrence]:
    """Every opening of every window from `start` (local date) for `weeks`, freezes marked. A
    window repeating every few periods without a start date takes `start` as its phase (Azure
    takes the day it was saved; dev_first refuses to judge such a window)."""
    found = []
    for config, window in plan_windows.items():
        if window.interval > 1 and window.start_date is None:
            window = replace(window, start_date=start)
        for offset in range(weeks * 7):
            day = start + timedelta(days=offset)
            if window.opens_on(day):
                opens = datetime.combine(day, window.start_time, window.utc_offset)
                closes = opens + window.duration
                found.append(Occurrence(environment, config, opens, closes,
                                        window.frozen(opens, closes)))
    return sorted(found, key=lambda o: (o.opens, o.environment, o.config))


def schedule(plans: Mapping[str, Mapping[str, Window]], start: date, weeks: int,
             shown_in: timezone | None = None) -> list[dict[str, str]]:
    """Every environment's openings, in time order, shown in `shown_in` (default: the first
    window's own offset)."""
    found = sorted((o for name, plan in plans.items() for o in occurrences(name, plan, start,
                                                                          weeks)),
                   key=lambda o: (o.opens, o.environment, o.config))
    if shown_in is None:
        first = next((w for plan in plans.values() for w in plan.values()), None)
        shown_in = first.utc_offset if first else UTC
    return table(found, shown_in)


def utc_offset(text: str) -> timezone:
    """'+09:00' as a time zone (for `shown_in`)."""
    return _offset(text, "utc_offset")


def _shown(moment: datetime, zone: timezone) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %Y-%m-%d %H:%M}"


def offset_name(zone: timezone) -> str:
    minutes = int(zone.utcoffset(None).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def table(found: Iterable[Occurrence], shown_in: timezone) -> list[dict[str, str]]:
    """Rows for display, times in `shown_in` (e.g. +09:00, JST)."""
    zone = offset_name(shown_in)
    return [{"opens": _shown(o.opens, shown_in), "closes": _shown(o.closes, shown_in),
             "environment": o.environment, "window": o.config, "updates": KINDS[o.config],
             "status": (f"frozen (notAllowedDates {o.frozen_by[0]}…{o.frozen_by[1]})"
                        if o.frozen_by else "opens"), "time zone": zone}
            for o in found]


# ---- dev before prod ----------------------------------------------------------------------------

def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if abs(hours) >= 48 else f"{hours:.0f} h"


def _order(config: str, dev: list[Occurrence], prod: list[Occurrence], soak: timedelta,
           min_share: float, shown_in: timezone) -> tuple[list[str], float | None]:
    skipped, short = [], []
    first, total = timedelta(), timedelta()
    for previous, current in zip(prod, prod[1:], strict=False):
        since = [d for d in dev if previous.opens < d.opens < current.opens]
        when = _shown(current.opens, shown_in)
        if not since:
            skipped.append(f"{config}: prod's window {when} comes with no dev window since "
                           f"prod's previous one ({_shown(previous.opens, shown_in)})")
            continue
        lead = current.opens - since[-1].closes
        if lead < soak:
            short.append(f"{config}: dev's window closes only {_hours(lead)} before prod's "
                         f"{when} (needs at least {_hours(soak)} to notice a bad release)")
        first += since[-1].opens - previous.opens
        total += current.opens - previous.opens
    problems = [found[0] + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
                for found in (skipped, short) if found]
    share = first / total if total else None
    if share is not None and share < min_share:
        problems.append(f"{config}: prod's window comes first: a release reaches dev first "
                        f"only {share:.0%} of the time (dev must lead: at least "
                        f"{min_share:.0%})")
    return problems, share


def dev_first(dev: Mapping[str, Window], prod: Mapping[str, Window], start: date,
              weeks: int = 8, soak: timedelta = DEFAULT_SOAK, min_share: float = 0.5,
              shown_in: timezone | None = None, kinds: Iterable[str] = CONFIG_NAMES) -> Verdict:
    """Whether dev's windows lead prod's, for each kind of window in `kinds` (all three unless
    told), over `weeks` from `start` (plus four weeks before it, so the first prod window has a
    predecessor)."""
    if shown_in is None:
        shown_in = next(iter({**dev, **prod}.values())).utc_offset if dev or prod else UTC
    problems, shares = [], {}
    for config in kinds:
        if config not in dev and config not in prod:
            problems.append(f"{config}: neither has a window, so AKS may update both at any "
                            f"time, in any order")
            continue
        if config not in prod:
            problems.append(f"{config}: prod has no window, so AKS may update it at any time, "
                            f"before dev")
            continue
        if config not in dev:
            problems.append(f"{config}: dev has no window, so nothing orders it before prod")
            continue
        for name, window in (("dev", dev[config]), ("prod", prod[config])):
            if window.interval > 1 and window.start_date is None:
                problems.append(f"{config}: {name} repeats every {window.interval} "
                                f"{window.schedule.lower()} periods without a start date: its "
                                f"phase is the day it was saved, so the order cannot be known")
        begin = start - timedelta(weeks=4)
        span = weeks + 4
        ds = [o for o in occurrences("dev", {config: dev[config]}, begin, span) if not o.frozen_by]
        ps = [o for o in occurrences("prod", {config: prod[config]}, begin, span)
              if not o.frozen_by]
        ps = [p for i, p in enumerate(ps)
              if p.opens.date() >= start or (i + 1 < len(ps) and ps[i + 1].opens.date() >= start)]
        found, share = _order(config, ds, ps, soak, min_share, shown_in)
        problems += found
        if share is None:
            problems.append(f"{config}: fewer than two prod windows in {weeks} weeks: too short "
                            f"a span to judge")
        else:
            shares[config] = share
    if problems:
        return Verdict(False, "dev before prod: FAIL — " + "; ".join(
            sorted({p.split(':')[0] for p in problems})) + " not ordered", tuple(problems))
    lowest = min(shares.values())
    return Verdict(True, f"dev before prod: pass — every prod window follows a dev window "
                         f"closed at least {_hours(soak)} earlier, and a release reaches dev "
                         f"first {lowest:.0%} of the time or more; the rest (a release that "
                         f"appears between the two windows) reaches prod first, which only "
                         f"Fleet Manager update runs prevent")


def freezes(plan_windows: Mapping[str, Window]) -> list[tuple[str, date, date]]:
    """The change freezes (notAllowedDates) each window carries."""
    return sorted((config, first, last) for config, window in plan_windows.items()
                  for first, last in window.not_allowed)
