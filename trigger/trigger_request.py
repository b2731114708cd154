"""What a trigger call asks for: body and Cloud Scheduler headers -> a checked `Fire` (pure logic).

Also the naming rules that make a retried delivery harmless: the PipelineJob id is derived from
the schedule name and the fire time only, so the same fire always maps to the same id.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Body fields the function understands; anything else is refused so typos do not pass silently.
BODY_FIELDS = ("pipeline", "template", "parameters", "schedule", "max_concurrent_runs")

_PIPELINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_ID_MAX = 128  # Vertex PipelineJob ids: [a-z][-a-z0-9]{0,127}
_LABEL_MAX = 63  # GCP label values: [a-z0-9_-]{0,63}


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
    """The body as a JSON object, or 400 saying where it stopped parsing."""
    if not data.strip():
        raise TriggerError(400, "body is empty; expected a JSON object with at least 'pipeline'")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        body = json.loads(data, parse_constant=no_constants)
    except UnicodeDecodeError as err:
        raise TriggerError(400, f"body is not UTF-8 text: {err.reason}") from None
    except json.JSONDecodeError as err:
        raise TriggerError(
            400, f"body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except ValueError as err:
        raise TriggerError(400, f"body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise TriggerError(400, f"body must be a JSON object, got {type(body).__name__}")
    return body


def parse_schedule_time(value: str) -> datetime:
    """Cloud Scheduler's X-CloudScheduler-ScheduleTime (RFC 3339) as an aware UTC datetime."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise TriggerError(
            400, f"header X-CloudScheduler-ScheduleTime is not an RFC 3339 time: '{value:.60}'"
        ) from None
    if when.tzinfo is None:
        raise TriggerError(
            400, f"header X-CloudScheduler-ScheduleTime has no time zone offset: '{value:.60}'"
        )
    return when.astimezone(UTC)


def build_fire(body: dict[str, Any], schedule_time: str | None, scheduler_job: str | None) -> Fire:
    """Check the body's fields (every problem named) and combine them with the headers."""
    problems = []
    unknown = sorted(set(body) - set(BODY_FIELDS))
    if unknown:
        problems.append(
            f"unknown field(s) {', '.join(repr(k) for k in unknown)}"
            f" (expected: {', '.join(BODY_FIELDS)})"
        )
    pipeline = body.get("pipeline")
    if pipeline is None:
        problems.append("field 'pipeline' is required (the pipeline to run, e.g. churn-training)")
    elif not isinstance(pipeline, str) or not _PIPELINE.fullmatch(pipeline) or ".." in pipeline:
        problems.append(f"field 'pipeline' must be a pipeline name, got {pipeline!r:.80}")
    template = body.get("template", "latest")
    if not isinstance(template, str) or not template.strip():
        problems.append(
            f"field 'template' must be 'latest', a version tag or a gs:// URI, got {template!r:.80}"
        )
    parameters = body.get("parameters")
    if parameters is None:
        parameters = {}
    elif not isinstance(parameters, dict):
        problems.append(f"field 'parameters' must be a JSON object, got {parameters!r:.80}")
    schedule = body.get("schedule")
    if schedule is not None and (not isinstance(schedule, str) or not schedule.strip()):
        problems.append(f"field 'schedule' must be a non-empty string, got {schedule!r:.80}")
    limit = body.get("max_concurrent_runs")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        problems.append(f"field 'max_concurrent_runs' must be an integer >= 1, got {limit!r:.40}")
    if problems:
        raise TriggerError(400, "; ".join(problems))

    fire_time = parse_schedule_time(schedule_time) if schedule_time else None
    if schedule is None and scheduler_job:
        schedule = scheduler_job.rstrip("/").rsplit("/", 1)[-1]
    if fire_time is not None and not schedule:
        raise TriggerError(
            400,
            "a scheduled call needs field 'schedule' (or header X-CloudScheduler-JobName) to "
            "name its PipelineJob",
        )
    return Fire(
        pipeline=pipeline,
        template=template.strip(),
        parameters=parameters,
        schedule=schedule,
        fire_time=fire_time,
        max_concurrent_runs=limit,
        scheduler_job=scheduler_job,
    )


def _slug(text: str, allowed: str) -> str:
    out = re.sub(f"[^{allowed}]+", "-", text.lower())
    return re.sub("-{2,}", "-", out).strip("-")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _fit(slug: str, original: str, limit: int) -> str:
    """`slug` cut to `limit` characters, keeping it unique by a hash of `original` when cut."""
    if len(slug) <= limit:
        return slug
    return slug[: limit - 9].rstrip("-") + "-" + _short_hash(original)


def job_id_for(fire: Fire, now: datetime | None = None, token: str | None = None) -> str:
    """The PipelineJob id: `<schedule>-<fire time>` for a scheduled fire (deterministic).

    A manual call (no fire time) gets `<schedule or pipeline>-manual-<now>-<random>` so that two
    manual runs never collide.
    """
    name = fire.schedule or fire.pipeline
    base = _slug(name, "a-z0-9")
    if not base or not base[0].isalpha():
        base = f"s-{base}".rstrip("-")
    if fire.fire_time is not None:
        suffix = "-" + fire.fire_time.strftime("%Y%m%dt%H%M%Sz")
    else:
        when = (now or datetime.now(UTC)).astimezone(UTC)
        suffix = f"-manual-{when.strftime('%Y%m%dt%H%M%Sz')}-{token or secrets.token_hex(3)}"
    return _fit(base, name, _ID_MAX - len(suffix)) + suffix


def label_value(text: str) -> str:
    """`text` as a valid GCP label value (lowercase, [a-z0-9_-], at most 63 characters)."""
    return _fit(_slug(text, "a-z0-9_"), text, _LABEL_MAX)


def job_labels(fire: Fire, template_version: str) -> dict[str, str]:
    """The labels every job carries; `schedule` is what max_concurrent_runs counts by."""
    labels = {
        "pipeline": label_value(fire.pipeline),
        "template-version": label_value(template_version),
        "trigger": "scheduler" if fire.scheduled else "manual",
    }
    if fire.schedule:
        labels["schedule"] = label_value(fire.schedule)
    return labels
