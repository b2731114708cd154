"""Cloud Function (2nd gen, HTTP): one Vertex AI PipelineJob per Cloud Scheduler fire.

Entry point: `trigger`. Cloud Scheduler POSTs
`{"pipeline", "template", "parameters", "schedule", "max_concurrent_runs"}` (application/json)
with its X-CloudScheduler-JobName / X-CloudScheduler-ScheduleTime headers. The job id is the
schedule name plus the fire time, so a retried delivery finds ALREADY_EXISTS and starts nothing.

Environment (read once per instance):
  PROJECT                   project of the pipeline jobs (default: GOOGLE_CLOUD_PROJECT)
  REGION                    Vertex AI region, e.g. europe-west4 (required)
  TEMPLATE_BASE             gs://bucket/prefix where compile.py --publish puts versions (required)
  PIPELINE_ROOT             gs:// root for pipeline outputs (default: the template's own)
  PIPELINE_SERVICE_ACCOUNT  service account the pipeline runs as (default: Vertex's default)
  NETWORK                   VPC network for the job, projects/<number>/global/networks/<name>
  MAX_BODY_BYTES            largest accepted body, default 65536 (413 above)
  LATEST_CACHE_SECONDS      how long `latest` stays resolved per instance, default 60
  RPC_TIMEOUT_SECONDS       per-call timeout towards GCS and Vertex AI, default 20
  AIPLATFORM_EMULATOR_HOST  host:port of a fake PipelineService (plain-text gRPC, no credentials)
  STORAGE_EMULATOR_HOST     GCS emulator URL (honoured by google-cloud-storage itself)

Answers (JSON): 200 created / already_exists / skipped; 400 bad body, parameters or pipeline
mismatch; 403 template outside TEMPLATE_BASE; 404 template or version not published; 405 not
POST; 413 body too large; 415 not application/json; 503 transient Vertex AI or GCS errors (Cloud
Scheduler retries); 500/502 configuration or non-transient upstream errors. Every call logs one
JSON line in Cloud Logging's structured format.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contract import params as pipeline_params
from template_store import Base, TemplateStore, parse_base
from trigger_request import (
    Fire,
    TriggerError,
    build_fire,
    check_content_type,
    check_size,
    job_id_for,
    job_labels,
    label_value,
    parse_body,
)


@dataclass(frozen=True)
class Settings:
    """The function's configuration, from environment variables (see the module docstring)."""

    project: str
    region: str
    base: Base
    pipeline_root: str | None
    service_account: str | None
    network: str | None
    max_body_bytes: int
    latest_ttl: float
    timeout: float
    aiplatform_emulator: str | None

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ = os.environ) -> Settings:
        """Read and check the environment; ValueError naming every variable that is wrong."""
        problems = []

        def number(name: str, default: float) -> float:
            raw = env.get(name, "")
            try:
                value = float(raw) if raw else default
            except ValueError:
                value = -1.0
            if value < 0:
                problems.append(f"{name} must be a non-negative number, got '{raw}'")
            return value

        project = env.get("PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or ""
        region = env.get("REGION", "")
        if not project:
            problems.append("PROJECT is not set")
        if not region:
            problems.append("REGION is not set")
        base = None
        try:
            base = parse_base(env.get("TEMPLATE_BASE", ""))
        except ValueError as err:
            problems.append(str(err))
        max_body = int(number("MAX_BODY_BYTES", 65536))
        latest_ttl = number("LATEST_CACHE_SECONDS", 60)
        timeout = number("RPC_TIMEOUT_SECONDS", 20)
        if problems or base is None:
            raise ValueError("; ".join(problems))
        return cls(
            project=project,
            region=region,
            base=base,
            pipeline_root=env.get("PIPELINE_ROOT") or None,
            service_account=env.get("PIPELINE_SERVICE_ACCOUNT") or None,
            network=env.get("NETWORK") or None,
            max_body_bytes=max_body,
            latest_ttl=latest_ttl,
            timeout=timeout or 20.0,
            aiplatform_emulator=env.get("AIPLATFORM_EMULATOR_HOST") or None,
        )


class _Instance:
    """What a warm instance keeps between requests: settings, clients, template cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._store: TemplateStore | None = None
        self._vertex: Any = None

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


_instance = _Instance()


def _log(severity: str, message: str, **fields: Any) -> None:
    entry = {"severity": severity, "message": message, **fields}
    sys.stdout.write(json.dumps(entry, default=str) + "\n")
    sys.stdout.flush()


def _read_fire(request: Any, settings: Settings) -> Fire:
    if request.method != "POST":
        raise TriggerError(405, f"method {request.method} not allowed; POST a JSON body")
    check_content_type(request.mimetype or "")
    check_size(request.content_length, settings.max_body_bytes)
    data = request.stream.read(settings.max_body_bytes + 1)
    check_size(len(data), settings.max_body_bytes)
    return build_fire(
        parse_body(data),
        request.headers.get("X-CloudScheduler-ScheduleTime"),
        request.headers.get("X-CloudScheduler-JobName"),
    )


def handle(request: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Serve one call: (HTTP status, response body, log fields). Never raises."""
    log: dict[str, Any] = {"schedule": None, "fire_time": None, "job_id": None}
    try:
        settings = _instance.settings()
        fire = _read_fire(request, settings)
        job_id = job_id_for(fire)
        log.update(
            schedule=fire.schedule,
            fire_time=fire.fire_time.isoformat().replace("+00:00", "Z") if fire.fire_time else None,
            job_id=job_id,
            pipeline=fire.pipeline,
        )
        store = _instance.store()
        template = store.load(store.resolve(fire.template, fire.pipeline))
        log.update(template_uri=template.ref.uri, template_version=template.ref.version)
        if template.name != fire.pipeline:
            raise TriggerError(
                400,
                f"template {template.ref.uri} is pipeline '{template.name}', not "
                f"'{fire.pipeline}' (field 'pipeline')",
            )
        typed, errors = pipeline_params.check_parameters(template.decls, fire.parameters)
        if errors:
            raise TriggerError(
                400,
                f"{len(errors)} parameter problem(s) for pipeline '{fire.pipeline}' "
                f"(field 'parameters'): " + "; ".join(str(e) for e in errors),
            )

        from gcp_clients import JobRequest

        vertex = _instance.vertex()
        name = vertex.job_name(job_id)
        body: dict[str, Any] = {
            "job": name,
            "job_id": job_id,
            "template_uri": template.ref.uri,
            "template_version": template.ref.version,
        }
        if fire.max_concurrent_runs and fire.schedule:
            active = vertex.active_runs(label_value(fire.schedule), fire.max_concurrent_runs)
            if name in active:
                return _existing(vertex, name, body, log)
            if len(active) >= fire.max_concurrent_runs:
                message = (
                    f"skipped: max_concurrent_runs={fire.max_concurrent_runs} of schedule "
                    f"'{fire.schedule}' reached ({len(active)} still running: {', '.join(active)})"
                )
                log.update(outcome="skipped", running=active)
                return 200, {"outcome": "skipped", "message": message, **body}, log
        created_name, created = vertex.create(
            JobRequest(
                job_id=job_id,
                template=template,
                parameter_values=typed,
                labels=job_labels(fire, template.ref.version),
                pipeline_root=settings.pipeline_root,
                service_account=settings.service_account,
                network=settings.network,
            )
        )
        if not created:
            return _existing(vertex, name, body, log)
        log.update(outcome="created")
        message = f"created PipelineJob {created_name}"
        return 200, {"outcome": "created", "message": message, **body, "job": created_name}, log
    except TriggerError as err:
        log.update(outcome=err.outcome)
        return err.status, {"outcome": err.outcome, "error": err.message}, log
    except Exception as err:  # a bug: still one log line and a JSON answer, with the stack
        log.update(outcome="error", stack_trace=traceback.format_exc())
        message = f"internal error: {type(err).__name__}: {err}"
        return 500, {"outcome": "error", "error": message}, log


def _existing(
    vertex: Any, name: str, body: dict[str, Any], log: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    state = vertex.state_of(name)
    log.update(outcome="already_exists", state=state)
    message = f"PipelineJob {name} already exists for this fire; nothing new started"
    return 200, {"outcome": "already_exists", "message": message, "state": state, **body}, log


def trigger(request: Any) -> tuple[str, int, dict[str, str]]:
    """HTTP entry point (functions-framework target `trigger`)."""
    started = time.perf_counter()
    status, body, log = handle(request)
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
    return json.dumps(body), status, {"Content-Type": "application/json"}
