"""Cloud Scheduler's unix-cron syntax (5 fields) and the next fire times in a time zone.

Fire times follow wall-clock time in the schedule's zone. Across daylight-saving changes we use
the usual cron reading: a wall-clock time that does not exist (clocks jump forward) fires at the
same instant it would have had before the jump, i.e. one hour later on the clock; a wall-clock
time that happens twice (clocks fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from contract import time_zones

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def cron_errors(expr: str) -> list[str]:
    """Everything wrong with a cron expression under Cloud Scheduler's unix-cron syntax."""
    if not isinstance(expr, str):
        return ['cron must be a string of 5 fields, e.g. "0 3 * * 1"']
    parts = expr.split()
    if len(parts) != 5:
        return [
            f"cron '{expr}' has {len(parts)} field(s); Cloud Scheduler needs 5: "
            'minute hour day-of-month month day-of-week (e.g. "0 3 * * 1")'
        ]
    errors = []
    for part, spec in zip(parts, _FIELDS, strict=True):
        problem = _field_error(part, spec)
        if problem:
            errors.append(f"cron '{expr}': {spec.name} field '{part}': {problem}")
    if not errors and never_fires(expr):
        errors.append(
            f"cron '{expr}' never fires: no chosen month has the chosen day(s) of the month "
            "(Cloud Scheduler refuses it)"
        )
    return errors


#: The longest each month gets (February: in leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def never_fires(expr: str) -> bool:
    """Whether a syntactically valid 5-field cron matches no time at all (`0 3 31 2 *`).

    Only an unrestricted day of the week (`*`) leaves the day of the month alone in charge;
    with any other day-of-week field some reading of unix-cron (either field may match) fires,
    so it is not refused here. Then it fires iff some chosen month is long enough for some
    chosen day: a given date falls on every weekday over the years, February 29 included.
    """
    _minute, _hour, dom, month, dow = expr.split()
    if dow != "*":
        return False
    days = _expand(dom, _FIELDS[2])
    months = _expand(month, _FIELDS[3])
    return not any(day <= _MONTH_DAYS[m - 1] for m in months for day in days)


def _expand(part: str, spec: _Field) -> set[int]:
    """The values a valid cron field selects."""
    out: set[int] = set()
    for item in part.split(","):
        match = _ITEM.match(item)
        assert match is not None  # callers validate first
        step = int(match["step"] or 1)
        if match["range"] == "*":
            low, high = spec.low, spec.high
        else:
            bounds = [_value(t, spec) for t in match["range"].split("-")]
            low = bounds[0]
            # "5/15" means 5, 20, 35, 50 in unix-cron: a start with a step runs to the top.
            high = bounds[-1] if len(bounds) == 2 or match["step"] is None else spec.high
        out.update(range(low, high + 1, step))
    return out


def _field_error(part: str, spec: _Field) -> str | None:
    for item in part.split(","):
        match = _ITEM.match(item)
        if not match:
            return f"'{item}' is not a value, range (a-b), list (a,b) or step (*/n)"
        if match["step"] is not None and int(match["step"]) == 0:
            return "a step must be at least 1"
        if match["range"] == "*":
            continue
        bounds = []
        for token in match["range"].split("-"):
            value = _value(token, spec)
            if value is None:
                allowed = f"{spec.low}-{spec.high}"
                if spec.names:
                    allowed += " or " + "/".join(spec.names)
                return f"'{token}' is not allowed (allowed: {allowed})"
            bounds.append(value)
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            return f"range '{match['range']}' goes backwards"
    return None


def _value(token: str, spec: _Field) -> int | None:
    if token.isdigit():
        value = int(token)
        return value if spec.low <= value <= spec.high else None
    return spec.names.get(token.upper())


def time_zone_error(name: object) -> str | None:
    """Why `name` is not an exact tz database zone name (`contract.time_zones`), or None."""
    return time_zones.problem(name)


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a schedule file's validated zone, or of a job's zone as Cloud Scheduler
    reports it ("utc" in any case means UTC there, as its Job reference says)."""
    return ZoneInfo("UTC" if name.lower() == "utc" else name)


def next_fire_times(expr: str, time_zone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after` (aware), in the schedule's zone."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    tz = zone(time_zone)
    after_utc = after.astimezone(UTC)
    # Walk wall-clock time naively (croniter is exact there), then place each wall-clock time
    # on the real time line; start an hour early so a repeated hour is not missed.
    wall = after_utc.astimezone(tz).replace(tzinfo=None) - timedelta(hours=1)
    it = croniter(" ".join(expr.split()), wall)
    out: list[datetime] = []
    last = after_utc
    guard = 0
    while len(out) < count:
        guard += 1
        if guard > count * 10 + 1000:
            break
        try:
            local = it.get_next(datetime)
        except (ValueError, KeyError, ArithmeticError):
            break  # croniter gives up on expressions like "0 0 31 2 *" that never fire
        instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if instant <= last:
            continue
        out.append(instant.astimezone(tz))
        last = instant
    return out


def fire_times_between(expr: str, time_zone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end) (aware), in the schedule's zone: the same instants as
    `next_fire_times`, enumerated day by day from the expanded fields (croniter costs ~0.1 ms a
    step, too slow for `status` over hundreds of schedules and minutely crons)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("`start` and `end` must be timezone-aware")
    minute, hour, dom, month, dow = expr.split()
    minutes = sorted(_expand(minute, _FIELDS[0]))
    hours = sorted(_expand(hour, _FIELDS[1]))
    days = _expand(dom, _FIELDS[2])
    months = _expand(month, _FIELDS[3])
    weekdays = {d % 7 for d in _expand(dow, _FIELDS[4])}
    # As croniter (and Vixie cron) read it: with both day fields restricted, either may match.
    either = dom != "*" and dow != "*"
    tz = zone(time_zone)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    # Local dates that can hold an instant of [start, end): a day of margin for any UTC offset.
    day = (start_utc - timedelta(days=1)).astimezone(tz).date()
    last_day = (end_utc + timedelta(days=1)).astimezone(tz).date()
    out: list[datetime] = []
    seen = start_utc - timedelta(microseconds=1)
    while day <= last_day:
        weekday = (day.weekday() + 1) % 7  # cron: 0 = Sunday
        in_dom, in_dow = day.day in days, weekday in weekdays
        if day.month in months and ((in_dom or in_dow) if either else (in_dom and in_dow)):
            for h in hours:
                for m in minutes:
                    local = datetime(day.year, day.month, day.day, h, m)
                    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
                    # A repeated hour fires once; a skipped one at the instant before the jump.
                    if seen < instant < end_utc and instant >= start_utc:
                        out.append(instant.astimezone(tz))
                        seen = instant
        day += timedelta(days=1)
    return out
