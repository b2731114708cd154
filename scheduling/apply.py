"""Carrying out a plan: one write per action, transient errors retried, failures isolated.

A job whose writes still fail after the retries is reported and the others proceed; the next
apply plans again from what is really there, so it converges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.api_core import exceptions as gexc
from google.protobuf import field_mask_pb2

from scheduling.api import CALL_TIMEOUT, RetryPolicy
from scheduling.diff import Action, Plan


@dataclass
class Outcome:
    """What an apply did: writes made per kind, and the actions that failed."""

    done: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    writes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def apply_plan(client, plan: Plan, retry: RetryPolicy, report=print) -> Outcome:
    """Make every write in `plan`; `report` gets one line per action as it completes."""
    outcome = Outcome()
    failed_jobs: set[str] = set()
    for action in plan.actions:
        if action.job_id in failed_jobs:
            # An update that failed must not be followed by a pause/resume of the same job.
            outcome.failed.append((action, "skipped: an earlier write to this job failed"))
            continue
        try:
            writes = _run(client, plan, action, retry)
        except gexc.GoogleAPICallError as err:
            failed_jobs.add(action.job_id)
            message = f"{type(err).__name__}: {err.message}"
            outcome.failed.append((action, message))
            report(f"FAILED {action.kind} {action.job_id}: {message}")
            continue
        outcome.writes += writes
        outcome.done.append(action)
        report(f"{action.kind}d {action.job_id}")  # created, updated, paused, resumed, deleted
    return outcome


def _run(client, plan: Plan, action: Action, retry: RetryPolicy) -> int:
    name = f"{plan.parent}/jobs/{action.job_id}"
    if action.kind == "create":
        _create(client, plan.parent, action, retry)
        if action.paused:
            retry.call(lambda: client.pause_job(name=name, retry=None, timeout=CALL_TIMEOUT))
            return 2
        return 1
    if action.kind == "update":
        mask = field_mask_pb2.FieldMask(paths=list(action.update_mask))
        retry.call(
            lambda: client.update_job(
                job=action.job, update_mask=mask, retry=None, timeout=CALL_TIMEOUT
            )
        )
        return 1
    if action.kind == "pause":
        retry.call(lambda: client.pause_job(name=name, retry=None, timeout=CALL_TIMEOUT))
        return 1
    if action.kind == "resume":
        retry.call(lambda: client.resume_job(name=name, retry=None, timeout=CALL_TIMEOUT))
        return 1
    if action.kind == "delete":
        _delete(client, name, retry)
        return 1
    raise ValueError(f"unknown action {action.kind}")


def _create(client, parent: str, action: Action, retry: RetryPolicy) -> None:
    attempts = 0

    def create():
        nonlocal attempts
        attempts += 1
        try:
            client.create_job(parent=parent, job=action.job, retry=None, timeout=CALL_TIMEOUT)
        except gexc.AlreadyExists:
            # A retried create whose first attempt landed after all; the next plan checks it.
            if attempts == 1:
                raise

    retry.call(create)


def _delete(client, name: str, retry: RetryPolicy) -> None:
    attempts = 0

    def delete():
        nonlocal attempts
        attempts += 1
        try:
            client.delete_job(name=name, retry=None, timeout=CALL_TIMEOUT)
        except gexc.NotFound:
            if attempts == 1:
                raise

    retry.call(delete)
