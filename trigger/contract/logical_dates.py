# Copied from contract/logical_dates.py by `python -m contract.vendor`; edit the original.
"""Logical dates: a run's string parameters may name the fire time they belong to.

`raw_data_path: raw/{fire_date}/customers.csv` makes a retried, late or backfilled run read its
own slot's data, not today's. Fields (from the fire time: Cloud Scheduler's schedule time of a
scheduled fire, the call time of a manual run):

- `{fire_date}`  YYYY-MM-DD in the schedule's time zone (the day the slot belongs to there)
- `{fire_time}`  RFC 3339 in UTC, 2026-03-29T01:30:00Z
- `{fire_stamp}` the stamp of job ids and labels, 20260329t013000z

`{{` and `}}` are literal braces. Anything else in braces (an unknown field, a format spec, an
unclosed brace) is refused: by `schedule.py validate` at file:line and by the trigger with a 400.
The one function `render` is used by both. Pure logic, standard library only.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contract import time_zones
from contract.naming import fire_stamp

FIELDS = ("fire_date", "fire_time", "fire_stamp")
_FORMATTER = string.Formatter()


def template_problems(value: str) -> list[str]:
    """What is wrong with the logical-date placeholders in `value` ([] when nothing)."""
    try:
        parts = list(_FORMATTER.parse(value))
    except ValueError as err:
        return [f"{value!r:.120} has unbalanced braces ({err}); write {{{{ or }}}} for a literal"]
    problems = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            problems.append(
                f"{value!r:.120} names '{{{name}}}'; the fields are "
                + ", ".join(f"{{{f}}}" for f in FIELDS)
                + " (write {{ or }} for a literal brace)"
            )
        elif spec or conversion:
            problems.append(f"{value!r:.120}: '{{{name}}}' takes no format or conversion")
    return problems


def zone(name: str) -> ZoneInfo:
    """The schedule's time zone; ValueError for anything that is not an exact tz database zone
    name (`contract.time_zones`: the one rule `schedule.py validate` and the trigger share)."""
    return time_zones.zone(name)


def fields(fire_time: datetime, time_zone: str) -> dict[str, str]:
    """The values of the fields for one fire time (aware) in a schedule's zone."""
    if fire_time.tzinfo is None:
        raise ValueError("fire_time must be timezone-aware")
    return {
        "fire_date": fire_time.astimezone(zone(time_zone)).strftime("%Y-%m-%d"),
        "fire_time": fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fire_stamp": fire_stamp(fire_time),
    }


def render(value: str, fire_time: datetime, time_zone: str) -> str:
    """`value` with its placeholders filled in; ValueError naming the problem."""
    problems = template_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value.format_map(fields(fire_time, time_zone))


def render_parameters(
    parameters: dict[str, Any], fire_time: datetime, time_zone: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Every string parameter rendered; (values, [(parameter, problem)])."""
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, value in parameters.items():
        if isinstance(value, str) and ("{" in value or "}" in value):
            try:
                out[name] = render(value, fire_time, time_zone)
            except ValueError as err:
                problems.append((name, str(err)))
        else:
            out[name] = value
    return out, problems
