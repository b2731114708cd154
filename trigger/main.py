"""Cloud Function (2nd gen, HTTP): one Vertex AI PipelineJob per Cloud Scheduler fire.

Entry point: `trigger`. Cloud Scheduler POSTs
`{"pipeline", "template", "parameters", "schedule", "max_concurrent_runs"}` (application/json)
with its X-CloudScheduler-JobName / X-CloudScheduler-ScheduleTime headers and an OIDC token. The
job id is `<environment>-<schedule>-<fire time>`, so a retried delivery finds ALREADY_EXISTS and
starts nothing. trigger/README.md has the configuration table, the answers and the identity rules.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import alerting
import slots
from identity import Caller, identify
from settings import Settings
from template_store import Template, TemplateStore
from trigger_request import (
    Fire,
    TriggerError,
    build_fire,
    check_content_type,
    check_size,
    job_id_for,
    job_labels,
    parse_body,
)

from contract import logical_dates
from contract import params as pipeline_params
from contract.ownership import DEPLOYMENT_PARAMETERS, RUNTIME_PARAMETERS


class _Instance:
    """What a warm instance keeps between requests: settings, clients, template cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._store: TemplateStore | None = None
        self._vertex: Any = None
        self._leases: Any = None

    @property
    def project(self) -> str | None:
        """The configured project, if the settings have been read and were valid."""
        return self._settings.project if self._settings else None

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env()
            except ValueError as err:
                raise TriggerError(500, f"function misconfigured: {err}", "error") from None
        return self._settings

    def store(self) -> TemplateStore:
        with self._lock:
            if self._store is None:
                from gcp_clients import GcsReader

                s = self.settings()
                reader = GcsReader(s.project, s.timeout)
                self._store = TemplateStore(s.base, reader, latest_ttl=s.latest_ttl)
            return self._store

    def vertex(self) -> Any:
        with self._lock:
            if self._vertex is None:
                from gcp_clients import Vertex

                s = self.settings()
                self._vertex = Vertex(s.project, s.region, s.aiplatform_emulator, s.timeout)
            return self._vertex

    def leases(self) -> Any:
        with self._lock:
            if self._leases is None:
                from gcp_clients import LeaseStore

                s = self.settings()
                self._leases = LeaseStore(s.project, s.timeout)
            return self._leases


_instance = _Instance()


def _log(severity: str, message: str, **fields: Any) -> None:
    entry = {"severity": severity, "message": message, **fields}
    sys.stdout.write(json.dumps(entry, default=str) + "\n")
    sys.stdout.flush()


def _check_at_start() -> None:
    """Read the settings when the instance starts, so a misconfiguration is logged (every
    problem named) before the first call; each call then answers 500 with the same message."""
    try:
        _instance.settings()
    except TriggerError as err:
        _log("ERROR", err.message, outcome="misconfigured")


@dataclass
class _Call:
    """What the entry point learns about a call besides its answer."""

    scheduled: bool = False  # the caller is Cloud Scheduler's invoker with its headers
    body_read: bool = False  # the request body was read to its end


def _read_fire(request: Any, settings: Settings, caller: Caller, call: _Call) -> Fire:
    if request.method != "POST":
        raise TriggerError(405, f"method {request.method} not allowed; POST a JSON body")
    check_content_type(request.mimetype or "")
    # A declared length over the limit is refused before a byte of the body is read.
    check_size(request.content_length, settings.max_body_bytes)
    data = request.stream.read(settings.max_body_bytes + 1)
    check_size(len(data), settings.max_body_bytes)
    call.body_read = True
    body = parse_body(data)
    if not caller.scheduled:
        return build_fire(body, None, None)
    return build_fire(body, caller.schedule_time, caller.job_name)


def _check_template(template: Template, fire: Fire, settings: Settings) -> None:
    """The template is the pipeline asked for and was published for this environment."""
    if template.name != fire.pipeline:
        raise TriggerError(
            400,
            f"template {template.ref.uri} is pipeline '{template.name}', not "
            f"'{fire.pipeline}' (field 'pipeline')",
        )
    unset = sorted(
        n for n, d in template.decls.items() if n in DEPLOYMENT_PARAMETERS and not d.optional
    )
    if unset:
        raise TriggerError(
            500,
            f"template {template.ref.uri} has no value for deployment parameter(s) "
            f"{', '.join(unset)}: publish it with `compile.py --publish ... --env "
            f"{settings.environment}`",
            "error",
        )
    declared = template.decls.get("environment")
    if declared is not None and declared.default != settings.environment:
        raise TriggerError(
            500,
            f"template {template.ref.uri} was published for environment "
            f"'{declared.default}', and this trigger serves '{settings.environment}' "
            "(check TEMPLATE_BASE)",
            "error",
        )


def handle(request: Any, call: _Call | None = None) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Serve one call: (HTTP status, response body, log fields). Never raises.

    `call` learns whether the caller is Cloud Scheduler and whether the body was read.
    """
    call = call if call is not None else _Call()
    log: dict[str, Any] = {"schedule": None, "fire_time": None, "job_id": None}
    try:
        return _serve(request, call, log)
    except TriggerError as err:
        log.update(outcome=err.outcome)
        return err.status, {"outcome": err.outcome, "error": err.message}, log
    except Exception as err:  # a bug: still one log line and a JSON answer, with the stack
        log.update(outcome="error", stack_trace=traceback.format_exc())
        message = f"internal error: {type(err).__name__}: {err}"
        return 500, {"outcome": "error", "error": message}, log


def _serve(
    request: Any, call: _Call, log: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """`handle` without its error handling: TriggerError for a call answered without a job."""
    settings = _instance.settings()
    caller = identify(request.headers, settings.scheduler_invoker, settings.manual_runs)
    log.update(caller=caller.email or None)
    call.scheduled = caller.scheduled
    fire = _read_fire(request, settings, caller, call)
    job_id = job_id_for(fire, settings.environment)
    log.update(
        schedule=fire.schedule,
        fire_time=fire.fire_time.isoformat().replace("+00:00", "Z") if fire.fire_time else None,
        job_id=job_id,
        pipeline=fire.pipeline,
    )
    store = _instance.store()
    template = store.template_for(fire.template, fire.pipeline)
    log.update(template_uri=template.ref.uri, template_version=template.ref.version)
    _check_template(template, fire, settings)
    typed = _typed_parameters(fire, template)

    vertex = _instance.vertex()
    name = vertex.job_name(job_id)
    body: dict[str, Any] = {
        "job": name,
        "job_id": job_id,
        "template_uri": template.ref.uri,
        "template_version": template.ref.version,
    }
    slot = slots.Slot("unlimited")
    if fire.max_concurrent_runs and fire.schedule:
        slot = slots.take_slot(_instance.leases(), vertex, settings, fire, name)
        if slot.outcome == "exists":
            return _existing(vertex, name, body, log)
        if slot.outcome == "full":
            return _skipped(fire, slot, body, log)
    return _create(settings, fire, template, typed, slot, body, log)


def _typed_parameters(fire: Fire, template: Template) -> dict[str, Any]:
    """The fire's parameters with logical dates filled in, typed against the template (400)."""
    # Logical dates: a manual run's "fire" is the call time.
    fired_at = fire.fire_time or datetime.now(UTC)
    values, date_problems = logical_dates.render_parameters(
        fire.parameters, fired_at, fire.time_zone
    )
    if date_problems:
        raise TriggerError(
            400,
            "; ".join(f"parameter '{name}': {problem}" for name, problem in date_problems)
            + " (field 'parameters')",
        )
    typed, errors = pipeline_params.check_caller_parameters(template.decls, values)
    if errors:
        raise TriggerError(
            400,
            f"{len(errors)} parameter problem(s) for pipeline '{fire.pipeline}' "
            f"(field 'parameters'): " + "; ".join(str(e) for e in errors),
        )
    for name in RUNTIME_PARAMETERS & set(template.decls):
        # `fire_time`: the slot this run belongs to, whatever day it runs (retries, backfills).
        typed[name] = logical_dates.fields(fired_at, fire.time_zone)["fire_time"]
    return typed


def _skipped(
    fire: Fire, slot: slots.Slot, body: dict[str, Any], log: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """The answer when the schedule's max_concurrent_runs are all still running."""
    running = ", ".join(slot.running)
    message = (
        f"skipped: max_concurrent_runs={fire.max_concurrent_runs} of schedule "
        f"'{fire.schedule}' reached ({len(slot.running)} still running: {running})"
    )
    log.update(outcome="skipped", running=list(slot.running))
    return 200, {"outcome": "skipped", "message": message, **body}, log


def _create(
    settings: Settings,
    fire: Fire,
    template: Template,
    typed: dict[str, Any],
    slot: slots.Slot,
    body: dict[str, Any],
    log: dict[str, Any],
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Create the PipelineJob; a slot taken for it is given back when creation is known to
    have failed."""
    from gcp_clients import JobRequest

    vertex = _instance.vertex()
    name = body["job"]
    job = JobRequest(
        job_id=body["job_id"],
        template=template,
        parameter_values=typed,
        labels=job_labels(fire, settings.environment, template.ref.version),
        pipeline_root=settings.pipeline_root,
        service_account=settings.service_account,
        network=settings.network,
    )
    try:
        created_name, created = vertex.create(job)
    except TriggerError as err:
        landed = _landed(vertex, name, err)
        if landed:
            log.update(outcome="created", create_error=err.message)
            message = (
                f"created PipelineJob {name} (Vertex AI answered: {err.message}; the job "
                "exists, so the create landed and only its answer was lost)"
            )
            return 200, {"outcome": "created", "message": message, **body}, log
        if slot.outcome == "taken" and landed is False:
            slots.release_slot(_instance.leases(), settings, fire, name)
        raise
    if not created:
        return _existing(vertex, name, body, log)
    log.update(outcome="created")
    message = f"created PipelineJob {created_name}"
    return 200, {"outcome": "created", "message": message, **body, "job": created_name}, log


def _landed(vertex: Any, name: str, err: TriggerError) -> bool | None:
    """After a failed CreatePipelineJob: whether the job exists all the same.

    A transient answer (DEADLINE_EXCEEDED, UNAVAILABLE, ...) may come after the service created
    the job, so its fixed id is looked up before the slot is given back, the call answered or
    an alert sent: True -> the run exists; False -> it does not (the slot is released);
    None -> unknown, the slot is kept (the lease's grace period frees it if no job appears,
    and Cloud Scheduler's retry finds the job or creates it). A refusal that is not transient
    (4xx, PERMISSION_DENIED) created nothing.
    """
    if err.outcome != "transient":
        return False
    return vertex.exists(name)


def _existing(
    vertex: Any, name: str, body: dict[str, Any], log: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    state = vertex.state_of(name)
    log.update(outcome="already_exists", state=state)
    message = f"PipelineJob {name} already exists for this fire; nothing new started"
    return 200, {"outcome": "already_exists", "message": message, "state": state, **body}, log


def _alert_if_no_run(
    scheduled: bool, status: int, body: dict[str, Any], log: dict[str, Any]
) -> None:
    """Publish the failure alert of a scheduled fire that produced no run (alerting.py)."""
    if not alerting.should_alert(scheduled, status, body.get("outcome")):
        return
    try:
        settings = _instance.settings()
    except TriggerError:
        return  # misconfigured: the answer is a 500 and the log says why
    if not settings.alerts_topic:
        return
    try:
        log["alert"] = alerting.publish_no_run(
            settings.alerts_topic,
            environment=settings.environment,
            project=settings.project,
            region=settings.region,
            status=status,
            body=body,
            log=log,
            timeout=settings.alerts_timeout,
        )
    except Exception as err:  # never let the alert change the answer
        log["alert_error"] = f"{type(err).__name__}: {err}"


def trigger(request: Any) -> tuple[str | Iterator[str], int, dict[str, str]]:
    """HTTP entry point (functions-framework target `trigger`)."""
    started = time.perf_counter()
    call = _Call()
    status, body, log = handle(request, call)
    # `schedule.py backfill` waits out a `skipped` slot and offers it again: no alert for that.
    waits = bool(request.headers.get(alerting.BACKFILL_HEADER))
    if not (waits and body.get("outcome") == "skipped"):
        _alert_if_no_run(call.scheduled, status, body, log)
    message = body.get("message") or body.get("error", "")
    severity = "INFO" if status < 400 else "WARNING" if status < 500 else "ERROR"
    trace = request.headers.get("X-Cloud-Trace-Context", "")
    project = _instance.project
    extra = {}
    if trace and project:
        extra["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace.split('/')[0]}"
    _log(
        severity,
        message,
        status=status,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        at=datetime.now(UTC).isoformat(),
        **log,
        **extra,
    )
    answer, headers = json.dumps(body), {"Content-Type": "application/json"}
    if not call.body_read:
        # functions-framework reads the whole request body before it sends an answer that is
        # not streamed (its after_request hook `read_request`): a 413 for a body declared far
        # over the limit, or a 403, would wait for (and buffer) that body. A streamed answer
        # (Flask turns an iterator into one) goes out at once.
        return iter([answer]), status, headers
    return answer, status, headers


_check_at_start()
