# Copied from contract/alerts.py by `python -m contract.vendor`; edit the original.
"""Failure alerts: one message shape for the two senders (pure logic, standard library only).

- the pipelines' exit handler (components/notify.py) when a run failed or was cancelled;
- the trigger when a scheduled fire produced no run (refused, failed, or skipped because
  max_concurrent_runs was reached).

A message is JSON (`data`) plus attributes for subscription filters (`kind`, `environment`,
`schedule`, `severity`). Consumers (a Chat/Slack/e-mail relay, a Cloud Function, a log sink)
read the JSON: schedule, fire time, failing step, error, console link.
"""

from __future__ import annotations

import json
import re

RUN_FAILED = "run_failed"
FIRE_WITHOUT_RUN = "fire_without_run"
#: Longest error text carried (Pub/Sub allows 10 MB; people read the first lines).
MAX_ERROR = 4000
_FAILED_TASKS = re.compile(r"failed tasks are: \[([^\]]*)\]", re.IGNORECASE)
_JOB = re.compile(r"^projects/([^/]+)/locations/([^/]+)/pipelineJobs/([^/]+)$")


def console_link(project: str, region: str, job_id: str) -> str:
    """A PipelineJob's page in the Google Cloud console."""
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{region}/pipelines/runs/"
        f"{job_id}?project={project}"
    )


def link_of(job_resource_name: str) -> str:
    """The console link of `projects/P/locations/R/pipelineJobs/ID` ('' if it is not one)."""
    match = _JOB.match(job_resource_name or "")
    return console_link(*match.groups()) if match else ""


def failing_step(task_name: str, error: str) -> str:
    """The step that failed: Vertex names the failed tasks of a DAG in its error message."""
    match = _FAILED_TASKS.search(error or "")
    if match and match.group(1).strip():
        return match.group(1).strip()
    return task_name or ""


def message(
    kind: str,
    *,
    environment: str,
    schedule: str,
    fire_time: str,
    error: str,
    step: str = "",
    job_id: str = "",
    link: str = "",
    state: str = "",
) -> tuple[bytes, dict[str, str]]:
    """(data, attributes) of one alert."""
    body = {
        "kind": kind,
        "environment": environment,
        "schedule": schedule or None,
        "fire_time": fire_time or None,
        "state": state or None,
        "failing_step": step or None,
        "error": (error or "")[:MAX_ERROR],
        "job_id": job_id or None,
        "link": link or None,
    }
    attributes = {
        "kind": kind,
        "environment": environment,
        "schedule": (schedule or "")[:1024],
        "severity": "ERROR",
    }
    data = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return data, attributes


def schedule_of(job_id: str, environment: str) -> str:
    """Best-effort schedule key from a PipelineJob id `<env>-<schedule>-<stamp>` (or manual)."""
    rest = job_id.removeprefix(f"{environment}-")
    rest = re.sub(r"-manual-\d{8}t\d{6}z-[0-9a-f]+$", "", rest)
    return re.sub(r"-\d{8}t\d{6}z$", "", rest)
