"""Schedule and environment files: their keys, defaults and Cloud Scheduler's limits.

Each `parse_*` function turns a parsed YAML `Document` into a typed object plus every problem
found, each with the line it is on; nothing here reads files or talks to an API. An environment
file's keys are the contract's (`contract.environment`): here it only gets its lines.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from contract.environment import Environment, environment_from, parameter_problems
from contract.naming import schedule_key
from contract.ownership import refusal
from contract.params import suggest
from scheduling import cron
from scheduling.yamlfile import Document

#: Cloud Scheduler's limits for HTTP-target jobs (RetryConfig and Job.attempt_deadline docs).
MAX_RETRY_COUNT = 5
MIN_ATTEMPT_DEADLINE = 15.0
MAX_ATTEMPT_DEADLINE = 30 * 60.0
MAX_DESCRIPTION = 500
MAX_JOB_ID = 500

MAX_DURATION = 365 * 24 * 3600.0
DEFAULT_ATTEMPT_DEADLINE = 180.0
DEFAULT_MIN_BACKOFF = 5.0
DEFAULT_MAX_BACKOFF = 3600.0
DEFAULT_MAX_DOUBLINGS = 5

JOB_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, shown as `file:line: message`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Retry:
    """A schedule's retry settings, durations in seconds."""

    count: int = 0
    min_backoff: float = DEFAULT_MIN_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_doublings: int = DEFAULT_MAX_DOUBLINGS
    max_retry_duration: float = 0.0


@dataclass(frozen=True)
class Schedule:
    """One `schedules/<name>.yaml` file, checked for shape (not yet against a pipeline)."""

    name: str
    file: str
    pipeline: str
    template: str
    cron: str
    time_zone: str
    description: str
    enabled: bool
    parameters: dict[str, Any]
    retry: Retry
    attempt_deadline: float
    max_concurrent_runs: int
    doc: Document = field(repr=False, compare=False, default_factory=lambda: Document(None))


@dataclass(frozen=True)
class EnvironmentFile:
    """A checked environment and the file it was read from, to put a problem on its line."""

    environment: Environment
    file: str
    doc: Document = field(repr=False, compare=False, default_factory=lambda: Document(None))

    def line(self, *path: Any) -> int:
        """The line of the key at `path` (0 when the file has no such key)."""
        return self.doc.line(*path)


SCHEDULE_KEYS = (
    "pipeline",
    "template",
    "cron",
    "time_zone",
    "description",
    "enabled",
    "parameters",
    "retry",
    "attempt_deadline",
    "max_concurrent_runs",
)
RETRY_KEYS = ("count", "min_backoff", "max_backoff", "max_doublings", "max_retry_duration")


def parse_duration(value: Any) -> float | None:
    """Seconds from `30s`, `10m`, `1h30m`, `1.5s` or a bare number of seconds; None if invalid
    (or longer than a year)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value
    elif isinstance(value, str) and value.strip():
        match = _DURATION.match(value.strip())
        if not match or not any(match.groups()):
            return None
        hours, minutes, secs = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    else:
        return None
    try:
        seconds = float(seconds)
    except OverflowError:
        return None
    # Beyond a year no Cloud Scheduler setting makes sense (and protobuf Durations overflow).
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DURATION:
        return None
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest of `1h30m`, `45s`, `1.5s` for a number of seconds."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


class _Collector:
    """Problems for one file, each placed on the line of the key it is about."""

    def __init__(self, file: str, doc: Document) -> None:
        self.file = file
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(self.file, self.doc.line(*path), message))

    def unknown_keys(
        self, mapping: dict, allowed: tuple[str, ...], path: tuple, where: str
    ) -> None:
        for key in mapping:
            if isinstance(key, str) and key not in allowed:
                hint = suggest(key, allowed)
                self.add(
                    (*path, key),
                    f"unknown key '{key}' in {where}"
                    + (f"; did you mean '{hint}'?" if hint else "")
                    + f" (allowed: {', '.join(allowed)})",
                )


def _structure_problems(c: _Collector) -> None:
    for path, line in c.doc.duplicates:
        c.problems.append(Problem(c.file, line, f"key '{path[-1]}' appears more than once"))
    for _path, line in c.doc.bad_keys:
        c.problems.append(Problem(c.file, line, "keys must be plain strings"))


def _string(c: _Collector, data: dict, key: str, *, required: bool, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            c.add((), f"missing required key '{key}'")
        return default
    if not isinstance(value, str) or not value.strip():
        c.add((key,), f"'{key}' must be a non-empty string, got {value!r:.60}")
        return default
    return value.strip()


def _mapping(c: _Collector, data: dict, key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        c.add((key,), f"'{key}' must be a mapping of name: value")
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str)}


def _duration(c: _Collector, path: tuple, value: Any, default: float) -> float:
    if value is None:
        return default
    seconds = parse_duration(value)
    if seconds is None:
        c.add(
            path,
            f"'{path[-1]}' must be a duration like 30s, 10m or 1h30m (at most a year), "
            f"got {value!r:.60}",
        )
        return default
    return seconds


def _integer(c: _Collector, path: tuple, value: Any, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        c.add(path, f"'{path[-1]}' must be a whole number, got {value!r:.60}")
        return default
    if not low <= value <= high:
        c.add(path, f"'{path[-1]}' must be between {low} and {high}, got {str(value)[:30]}")
        return default
    return value


def parse_schedule(name: str, file: str, doc: Document) -> tuple[Schedule | None, list[Problem]]:
    """A Schedule from a parsed file named `<name>.yaml`, and every problem in it.

    The schedule is None only when the file is not a mapping; with problems it carries defaults
    in place of the bad values and must not be deployed.
    """
    c = _Collector(file, doc)
    _structure_problems(c)
    data = doc.data
    _file_name_problems(c, name)
    if not isinstance(data, dict):
        c.add((), "a schedule file must be a mapping with at least pipeline and cron")
        return None, c.problems
    c.unknown_keys(data, SCHEDULE_KEYS, (), "a schedule")

    pipeline = _string(c, data, "pipeline", required=True)
    template = _string(c, data, "template", required=False, default="latest")
    cron_expr, time_zone = _when(c, data)
    description = _description(c, data)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        c.add(("enabled",), f"'enabled' must be true or false, got {enabled!r:.60}")
        enabled = True
    parameters = _schedule_parameters(c, _mapping(c, data, "parameters"))
    retry = _parse_retry(c, data.get("retry"))
    deadline = _attempt_deadline(c, data)
    max_runs = _integer(c, ("max_concurrent_runs",), data.get("max_concurrent_runs"), 1, 1, 1000)
    # Returned even with problems, so that its parameters are still checked: every problem in
    # every file is reported in one run.
    schedule = Schedule(
        name=name,
        file=file,
        pipeline=pipeline,
        template=template,
        cron=" ".join(cron_expr.split()),
        time_zone=time_zone,
        description=description,
        enabled=enabled,
        parameters=parameters,
        retry=retry,
        attempt_deadline=deadline,
        max_concurrent_runs=max_runs,
        doc=doc,
    )
    return schedule, c.problems


def _file_name_problems(c: _Collector, name: str) -> None:
    """The file name is the job id: Cloud Scheduler's characters, at least one alphanumeric."""
    if not JOB_ID.fullmatch(name):
        c.add(
            (),
            f"file name {name!r:.80} may only use letters, digits, '-' and '_' (it is the job id)",
        )
    elif not schedule_key(name):
        c.add((), f"file name '{name}' needs at least one letter or digit")


def _when(c: _Collector, data: dict[str, Any]) -> tuple[str, str]:
    """(cron expression, time zone) of a schedule, each checked; UTC when no zone is given."""
    cron_expr = _string(c, data, "cron", required=True)
    if cron_expr:
        for message in cron.cron_errors(cron_expr):
            c.add(("cron",), message)
    if data.get("time_zone") is None:
        return cron_expr, "UTC"
    tz_problem = cron.time_zone_error(data["time_zone"])
    if tz_problem:
        c.add(("time_zone",), tz_problem)
        return cron_expr, "UTC"
    return cron_expr, data["time_zone"]


def _description(c: _Collector, data: dict[str, Any]) -> str:
    """The optional description ('' when absent or not a string)."""
    description = data.get("description", "")
    if description is None:
        return ""
    if not isinstance(description, str):
        c.add(("description",), "'description' must be a string")
        return ""
    if len(description) > MAX_DESCRIPTION:
        c.add(("description",), f"'description' is {len(description)} characters; at most 500")
    hidden = control_characters(description)
    if hidden:
        shown = ", ".join(f"U+{ord(ch):04X} at character {i + 1}" for i, ch in hidden[:5])
        c.add(
            ("description",),
            f"'description' contains control or bidirectional characters ({shown}); they would "
            "reach the plan output and the Cloud Scheduler console as they are: write it as "
            "plain text on one line",
        )
    return description


#: Bidirectional embeddings, overrides and isolates: they reorder what a terminal shows.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_characters(text: str) -> list[tuple[int, str]]:
    """(index, character) of every control character (C0, DEL, C1: Unicode category Cc) and
    bidirectional formatting character in `text`."""
    return [(i, ch) for i, ch in enumerate(text) if unicodedata.category(ch) == "Cc" or ch in _BIDI]


def _attempt_deadline(c: _Collector, data: dict[str, Any]) -> float:
    """Seconds Cloud Scheduler waits for the trigger, within its limits for HTTP targets."""
    deadline = _duration(c, ("attempt_deadline",), data.get("attempt_deadline"), 180.0)
    if not MIN_ATTEMPT_DEADLINE <= deadline <= MAX_ATTEMPT_DEADLINE:
        c.add(
            ("attempt_deadline",),
            f"'attempt_deadline' {format_duration(deadline)} is outside Cloud Scheduler's limits "
            "for HTTP targets (15s to 30m)",
        )
    return deadline


def _schedule_parameters(c: _Collector, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters a schedule may set, held to the rules an environment's defaults meet;
    deployment-owned ones are reported and left out (so they are not reported again as
    undeclared). An unsafe data path is kept (it is a string, as declared) so it is not also
    reported as missing."""
    kept = {}
    for key, value in parameters.items():
        for problem in parameter_problems(key, value):
            c.add(("parameters", key), problem)
        if refusal(key) is None:
            kept[key] = value
    return kept


def _parse_retry(c: _Collector, value: Any) -> Retry:
    if value is None:
        return Retry()
    if not isinstance(value, dict):
        c.add(("retry",), "'retry' must be a mapping, e.g. {count: 3, min_backoff: 30s}")
        return Retry()
    c.unknown_keys(value, RETRY_KEYS, ("retry",), "retry")
    count = _integer(c, ("retry", "count"), value.get("count"), 0, 0, MAX_RETRY_COUNT)
    min_backoff = _duration(c, ("retry", "min_backoff"), value.get("min_backoff"), 5.0)
    max_backoff = _duration(c, ("retry", "max_backoff"), value.get("max_backoff"), 3600.0)
    doublings = _integer(
        c, ("retry", "max_doublings"), value.get("max_doublings"), DEFAULT_MAX_DOUBLINGS, 0, 16
    )
    max_duration = _duration(
        c, ("retry", "max_retry_duration"), value.get("max_retry_duration"), 0.0
    )
    if min_backoff > max_backoff:
        c.add(
            ("retry", "min_backoff"),
            f"min_backoff ({format_duration(min_backoff)}) is longer than max_backoff "
            f"({format_duration(max_backoff)})",
        )
    return Retry(count, min_backoff, max_backoff, doublings, max_duration)


def parse_environment(
    name: str, file: str, doc: Document
) -> tuple[EnvironmentFile | None, list[Problem]]:
    """The environment of a parsed `environments/<name>.yaml`, and every problem in it.

    The keys are checked by contract.environment (the rules compile.py and the setup use too);
    each of its problems is placed on the line of the key it is about. The reconciler also needs
    a `trigger_url`, which the setup's first run (before the trigger exists) does without.
    """
    c = _Collector(file, doc)
    _structure_problems(c)
    env, env_problems = environment_from(name, doc.data)
    for problem in env_problems:
        c.add(problem.path, problem.message)
    if isinstance(doc.data, dict) and doc.data.get("trigger_url") is None:
        c.add(
            (),
            "missing required key 'trigger_url' (the trigger's Cloud Run URL: jobs POST there; "
            "`python infra/bootstrap.py --env ENV` prints how to get it)",
        )
    if c.problems or env is None:
        return None, c.problems
    return EnvironmentFile(env, file, doc), []
