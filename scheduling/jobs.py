"""The Cloud Scheduler job a schedule should be, and a flat, comparable view of any job.

Ownership: a job is ours only when its id starts with the environment's `job_prefix` AND its
HTTP target carries the header `X-Managed-By: churn-schedules/<env>`. Cloud Scheduler jobs have
no labels, so the header is the only place to mark them; the environment in its value keeps
two environments that share a location (and overlapping prefixes) from touching each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.cloud.scheduler_v1 import types
from google.protobuf import duration_pb2

from contract.environment import Environment
from contract.naming import LATEST, VERSION_TAG_RULE, is_version_tag
from scheduling.spec import Schedule, format_duration

MARKER_HEADER = "X-Managed-By"
MARKER_PREFIX = "churn-schedules"
#: Headers Cloud Scheduler sets on its own; they are not part of what we manage.
SERVER_HEADERS = frozenset({"user-agent"})
#: Set by `schedule.py pause` on a job an operator paused (`<who> <when> <reason>`): jobs have no
#: labels, and a header is the one place on the job itself that survives. `plan`/`apply` keep a
#: job carrying it paused ("held paused by operator") until `schedule.py resume` removes it.
HOLD_HEADER = "X-Churn-Paused-By"
#: Headers that record operator state rather than managed configuration: never diffed.
OPERATOR_HEADERS = frozenset({HOLD_HEADER.lower()})


def marker_value(env_name: str) -> str:
    """The value of the ownership header for one environment."""
    return f"{MARKER_PREFIX}/{env_name}"


def job_id(schedule_name: str, env: Environment) -> str:
    """The Cloud Scheduler job id of a schedule in an environment."""
    return env.job_prefix + schedule_name


def job_name(schedule_name: str, env: Environment) -> str:
    """The full resource name of a schedule's job."""
    return f"{env.parent}/jobs/{job_id(schedule_name, env)}"


def template_problem(template: str, env: Environment) -> str | None:
    """Why the trigger would refuse `template` in `env` (it runs only templates under its base)."""
    if template == LATEST:
        return None
    if "://" in template:
        path = template[len("gs://") :] if template.startswith("gs://") else ""
        if any(part in ("", ".", "..") for part in path.split("/")):
            return (
                f"template URI {template!r:.200} has an empty, '.' or '..' segment "
                "(the trigger refuses it); name the published file directly"
            )
        if not template.startswith(env.template_base + "/"):
            return (
                f"template '{template}' is outside the environment's template_base "
                f"{env.template_base}/ (the trigger runs nothing else)"
            )
        return None
    if not is_version_tag(template):
        return (
            f"template {template!r:.200} is not 'latest', a version tag ({VERSION_TAG_RULE}) "
            "or a gs:// URI under the template_base"
        )
    return None


def request_body(schedule: Schedule, env: Environment, parameters: dict[str, Any]) -> bytes:
    """The trigger request, serialized deterministically so that diffs are stable."""
    body = {
        "pipeline": schedule.pipeline,
        # As written: the trigger resolves `latest` at fire time, so schedules follow publishes.
        "template": schedule.template,
        "parameters": parameters,
        "schedule": schedule.name,
        "max_concurrent_runs": schedule.max_concurrent_runs,
        # The trigger renders {fire_date} in parameters in this zone (contract.logical_dates).
        "time_zone": schedule.time_zone,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))


def desired_job(schedule: Schedule, env: Environment, parameters: dict[str, Any]) -> types.Job:
    """The complete job a schedule should be in `env` (state set from `enabled`)."""
    retry = schedule.retry
    return types.Job(
        name=job_name(schedule.name, env),
        description=schedule.description,
        schedule=schedule.cron,
        time_zone=schedule.time_zone,
        http_target=types.HttpTarget(
            uri=env.trigger_url,
            http_method=types.HttpMethod.POST,
            headers={
                "Content-Type": "application/json",
                MARKER_HEADER: marker_value(env.name),
            },
            body=request_body(schedule, env, parameters),
            oidc_token=types.OidcToken(
                service_account_email=env.invoker_service_account,
                # Set, not left to default to the URI: Cloud Run accepts only a token whose
                # `aud` is its run.app URL or a custom audience ("Set custom audiences for
                # services"), so trigger_url must be the function's serviceConfig.uri;
                # infra/bootstrap.py checks that against the deployed function.
                audience=env.trigger_url,
            ),
        ),
        retry_config=types.RetryConfig(
            retry_count=retry.count,
            min_backoff_duration=_duration(retry.min_backoff),
            max_backoff_duration=_duration(retry.max_backoff),
            max_doublings=retry.max_doublings,
            max_retry_duration=_duration(retry.max_retry_duration),
        ),
        attempt_deadline=_duration(schedule.attempt_deadline),
        state=types.Job.State.ENABLED if schedule.enabled else types.Job.State.PAUSED,
    )


def short_id(name: str) -> str:
    """The job id at the end of a full job name."""
    return name.rsplit("/", 1)[-1]


def is_owned(job: types.Job, env: Environment) -> bool:
    """Whether `job` is one this environment manages (prefix AND marker header)."""
    if not short_id(job.name).startswith(env.job_prefix):
        return False
    pb = types.Job.pb(job)
    if pb.WhichOneof("target") != "http_target":
        return False
    headers = {k.lower(): v for k, v in pb.http_target.headers.items()}
    return headers.get(MARKER_HEADER.lower()) == marker_value(env.name)


def hold_of(job: types.Job) -> str | None:
    """The operator hold on a job (`<who> <when> <reason>`), or None when it carries none."""
    pb = types.Job.pb(job)
    if pb.WhichOneof("target") != "http_target":
        return None
    for key, value in pb.http_target.headers.items():
        if key.lower() == HOLD_HEADER.lower():
            return value
    return None


def is_held(job: types.Job) -> bool:
    """Whether an operator paused `job` with `schedule.py pause` and has not resumed it."""
    return hold_of(job) is not None and types.Job.pb(job).state == types.Job.State.PAUSED


def _seconds(duration: duration_pb2.Duration) -> str:
    return format_duration(duration.seconds + duration.nanos / 1e9)


def flatten(job: types.Job) -> dict[str, Any]:
    """The managed fields of a job as `path -> value`, for field-by-field comparison.

    Paths start with the top-level Job field, which is also the `update_mask` path that replaces
    it; output-only fields (state, times, status) are left out.
    """
    pb = types.Job.pb(job)
    out: dict[str, Any] = {
        "description": pb.description,
        "schedule": pb.schedule,
        "time_zone": pb.time_zone,
    }
    target = pb.WhichOneof("target")
    if target != "http_target":
        out["target"] = target or "none"
    else:
        http = pb.http_target
        out["http_target.uri"] = http.uri
        out["http_target.http_method"] = types.HttpMethod(http.http_method).name
        for key in sorted(http.headers):
            if key.lower() not in SERVER_HEADERS and key.lower() not in OPERATOR_HEADERS:
                out[f"http_target.headers.{key}"] = http.headers[key]
        out["http_target.body"] = http.body.decode("utf-8", errors="replace")
        auth = http.WhichOneof("authorization_header")
        if auth == "oidc_token":
            out["http_target.oidc_token.service_account_email"] = (
                http.oidc_token.service_account_email
            )
            out["http_target.oidc_token.audience"] = http.oidc_token.audience
        elif auth == "oauth_token":
            out["http_target.oauth_token.service_account_email"] = (
                http.oauth_token.service_account_email
            )
            out["http_target.oauth_token.scope"] = http.oauth_token.scope
        else:
            out["http_target.authorization"] = "none"
    retry = pb.retry_config
    out["retry_config.retry_count"] = retry.retry_count
    out["retry_config.min_backoff_duration"] = _seconds(retry.min_backoff_duration)
    out["retry_config.max_backoff_duration"] = _seconds(retry.max_backoff_duration)
    out["retry_config.max_doublings"] = retry.max_doublings
    out["retry_config.max_retry_duration"] = _seconds(retry.max_retry_duration)
    out["attempt_deadline"] = _seconds(pb.attempt_deadline)
    return out


@dataclass(frozen=True)
class Desired:
    """A schedule's job in an environment, with its flat view computed once."""

    schedule: Schedule
    job: types.Job
    fields: dict[str, Any]

    @property
    def job_id(self) -> str:
        return short_id(self.job.name)

    @property
    def enabled(self) -> bool:
        return self.schedule.enabled


def build_desired(
    schedules: list[Schedule], env: Environment, parameters: dict[tuple[str, str], dict[str, Any]]
) -> list[Desired]:
    """Desired jobs for validated schedules (`parameters` as typed by validation)."""
    out = []
    for schedule in schedules:
        job = desired_job(schedule, env, parameters.get((env.name, schedule.name), {}))
        out.append(Desired(schedule, job, flatten(job)))
    return out
