"""What a trigger call asks for: body and Cloud Scheduler headers -> a checked `Fire` (pure logic).

Every name a fire gets (PipelineJob id, labels) comes from `contract.naming`, so the same fire of
the same environment always maps to the same id and a retried delivery is harmless.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contract import logical_dates, naming
from contract.request import BODY_FIELDS, MAX_CONCURRENT_RUNS
from contract.values import MAX_DEPTH, json_depth, string_problems, value_problems

_SCHEDULE_MAX = 500
#: Levels of nesting a body may have: the body, `parameters`, then a value's own MAX_DEPTH.
BODY_DEPTH = MAX_DEPTH + 2


class TriggerError(Exception):
    """A request the function answers with `status` and `message` instead of creating a job."""

    def __init__(self, status: int, message: str, outcome: str = "rejected") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.outcome = outcome


@dataclass(frozen=True)
class Fire:
    """One checked call: which pipeline and template to run, with what, for which fire."""

    pipeline: str
    template: str
    parameters: dict[str, Any]
    schedule: str | None
    fire_time: datetime | None  # None for a manual call (no Cloud Scheduler headers)
    max_concurrent_runs: int | None
    scheduler_job: str | None = None
    #: the schedule's IANA zone, where `{fire_date}` is the fire's date
    time_zone: str = "UTC"

    @property
    def scheduled(self) -> bool:
        """True when Cloud Scheduler's fire time came with the call."""
        return self.fire_time is not None


def check_content_type(mimetype: str) -> None:
    """Refuse (415) anything but application/json, whatever its charset parameter."""
    if mimetype.lower() != "application/json":
        raise TriggerError(
            415,
            f"Content-Type must be application/json, got '{mimetype or '(none)'}'",
        )


def check_size(length: int | None, limit: int) -> None:
    """Refuse (413) a body longer than `limit` bytes."""
    if length is not None and length > limit:
        raise TriggerError(413, f"body is {length} bytes, the limit is {limit} (MAX_BODY_BYTES)")


def parse_body(data: bytes) -> dict[str, Any]:
    """The body as a JSON object whose every value can be passed on unchanged, or 400 saying
    where it is wrong (position, or the field and key path)."""
    if not data.strip():
        raise TriggerError(400, "body is empty; expected a JSON object with at least 'pipeline'")
    # Before parsing: json.loads recurses per level and would fail on ~1000 levels.
    depth = json_depth(data)
    if depth > BODY_DEPTH:
        raise TriggerError(
            400, f"body nests {depth} levels deep; at most {BODY_DEPTH} are accepted"
        )
    body = _decode_json(data)
    if not isinstance(body, dict):
        raise TriggerError(400, f"body must be a JSON object, got {type(body).__name__}")
    problems = []
    for key, value in body.items():
        problems += string_problems(key, "body key") + value_problems(value, f"field '{key}'")
    if problems:
        raise TriggerError(400, "; ".join(problems[:10]))
    return body


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"number {text:.40} is too large for a double")
    return number


def _decode_json(data: bytes) -> Any:
    """Strict JSON (no NaN/Infinity, no number overflowing a double), or 400 saying where."""
    try:
        return json.loads(data, parse_constant=_no_constants, parse_float=_finite)
    except UnicodeDecodeError as err:
        raise TriggerError(400, f"body is not UTF-8 text: {err.reason}") from None
    except json.JSONDecodeError as err:
        raise TriggerError(
            400, f"body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except (ValueError, RecursionError) as err:
        raise TriggerError(400, f"body is not valid JSON: {err}") from None


def parse_schedule_time(value: str) -> datetime:
    """Cloud Scheduler's X-CloudScheduler-ScheduleTime (RFC 3339) as an aware UTC datetime."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
    except OverflowError:
        raise TriggerError(
            400,
            f"header X-CloudScheduler-ScheduleTime '{value:.60}' is outside the years 1-9999 "
            "once converted to UTC",
        ) from None
    except ValueError:
        raise TriggerError(
            400, f"header X-CloudScheduler-ScheduleTime is not an RFC 3339 time: '{value:.60}'"
        ) from None
    if when.tzinfo is None:
        raise TriggerError(
            400, f"header X-CloudScheduler-ScheduleTime has no time zone offset: '{value:.60}'"
        )
    return when


def build_fire(body: dict[str, Any], schedule_time: str | None, scheduler_job: str | None) -> Fire:
    """Check the body's fields (every problem named) and combine them with the headers."""
    problems = _field_problems(body)
    if problems:
        raise TriggerError(400, "; ".join(problems))
    fire_time = parse_schedule_time(schedule_time) if schedule_time else None
    schedule = _schedule_of(body.get("schedule"), scheduler_job)
    if fire_time is not None and not schedule:
        raise TriggerError(
            400,
            "a scheduled call needs field 'schedule' (or header X-CloudScheduler-JobName) to "
            "name its PipelineJob",
        )
    return Fire(
        pipeline=body["pipeline"],
        template=body.get("template", "latest").strip(),
        parameters=body.get("parameters") or {},
        schedule=schedule,
        fire_time=fire_time,
        max_concurrent_runs=body.get("max_concurrent_runs"),
        scheduler_job=scheduler_job,
        time_zone=body.get("time_zone", "UTC"),
    )


def _field_problems(body: dict[str, Any]) -> list[str]:
    """Every problem in the body's fields, in the order of BODY_FIELDS' documentation."""
    problems = []
    unknown = sorted(set(body) - set(BODY_FIELDS))
    if unknown:
        problems.append(
            f"unknown field(s) {', '.join(repr(k) for k in unknown)}"
            f" (expected: {', '.join(BODY_FIELDS)})"
        )
    problems += _pipeline_problems(body.get("pipeline"))
    template = body.get("template", "latest")
    if not isinstance(template, str) or not template.strip():
        problems.append(
            f"field 'template' must be 'latest', a version tag or a gs:// URI, got {template!r:.80}"
        )
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        problems.append(f"field 'parameters' must be a JSON object, got {parameters!r:.80}")
    schedule = body.get("schedule")
    if schedule is not None:
        problems += _schedule_problems(schedule, "field 'schedule'")
    problems += _limit_problems(body.get("max_concurrent_runs"))
    try:
        logical_dates.zone(body.get("time_zone", "UTC"))
    except ValueError as err:
        problems.append(f"field 'time_zone': {err}")
    return problems


def _pipeline_problems(pipeline: Any) -> list[str]:
    if pipeline is None:
        return ["field 'pipeline' is required (the pipeline to run, e.g. churn-training)"]
    # Only its type here: whether it names a pipeline (contract.naming.PIPELINE_NAME) is
    # answered with the version's published pipelines (TemplateStore.template_for).
    if not isinstance(pipeline, str) or not pipeline.strip():
        return [f"field 'pipeline' must be a pipeline name, got {pipeline!r:.80}"]
    return []


def _limit_problems(limit: Any) -> list[str]:
    if limit is None or (
        not isinstance(limit, bool) and isinstance(limit, int) and 1 <= limit <= MAX_CONCURRENT_RUNS
    ):
        return []
    return [
        f"field 'max_concurrent_runs' must be an integer from 1 to {MAX_CONCURRENT_RUNS}, "
        f"got {limit!r:.40}"
    ]


def _schedule_of(schedule: str | None, scheduler_job: str | None) -> str | None:
    """The body's schedule, else the last part of Cloud Scheduler's job name header (checked)."""
    if schedule is not None or not scheduler_job:
        return schedule
    schedule = scheduler_job.rstrip("/").rsplit("/", 1)[-1]
    problems = _schedule_problems(schedule, "header X-CloudScheduler-JobName")
    if problems:
        raise TriggerError(400, "; ".join(problems))
    return schedule


def _schedule_problems(schedule: Any, where: str) -> list[str]:
    if not isinstance(schedule, str) or not schedule.strip():
        return [f"{where} must be a non-empty string, got {schedule!r:.80}"]
    if len(schedule) > _SCHEDULE_MAX:
        return [f"{where} is longer than {_SCHEDULE_MAX} characters"]
    if not naming.schedule_key(schedule):
        return [f"{where} '{schedule:.80}' has no letters or digits to name a PipelineJob with"]
    return []


def job_id_for(
    fire: Fire, environment: str, now: datetime | None = None, token: str | None = None
) -> str:
    """The PipelineJob id: `<env>-<schedule>-<fire time>` for a scheduled fire (deterministic).

    A manual call (no fire time) gets `<env>-<schedule or pipeline>-manual-<now>-<random>`, so
    two manual runs never collide.
    """
    name = fire.schedule or fire.pipeline
    if fire.fire_time is not None:
        return naming.job_id(environment, name, fire.fire_time)
    when = now or datetime.now(UTC)
    return naming.manual_job_id(environment, name, when, token or secrets.token_hex(3))


def job_labels(fire: Fire, environment: str, template_version: str) -> dict[str, str]:
    """The labels every job carries (`contract.naming.job_labels`)."""
    return naming.job_labels(
        environment, fire.pipeline, template_version, fire.schedule, fire.fire_time
    )
