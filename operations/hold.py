"""The incident switch: `schedule.py pause` / `resume` hold jobs paused past any `apply`.

An operator pause writes two things on each job: the hold header (`jobs.HOLD_HEADER`, value
`<who> <when> <reason>`; Cloud Scheduler jobs have no labels) through UpdateJob, then PauseJob.
The header goes first: a job marked but not yet paused fires as before and is harmless, while a
job paused but not marked would be resumed by the next `apply`. `plan`/`apply` leave a held job
paused ("held paused by operator") even when its file says enabled. `resume` resumes the held
jobs whose file says enabled (a job whose file says `enabled: false` stays paused) and then
removes the header. Every job is reported on its own; one failure does not stop the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from google.api_core import exceptions as gexc
from google.cloud.scheduler_v1 import types
from google.protobuf import field_mask_pb2

from scheduling.api import CALL_TIMEOUT, RetryPolicy
from scheduling.jobs import HOLD_HEADER, SERVER_HEADERS, hold_of, short_id

#: Longest hold header value we write (who + when + reason).
MAX_HOLD = 300


@dataclass(frozen=True)
class JobResult:
    """What pause/resume did to one job: `ok`, a short outcome and details."""

    job_id: str
    ok: bool
    outcome: str
    detail: str = ""

    def line(self) -> str:
        """The job's line in the report."""
        mark = "ok    " if self.ok else "FAILED"
        return f"  {mark} {self.job_id}: {self.outcome}" + (
            f" ({self.detail})" if self.detail else ""
        )


def hold_value(who: str, when: datetime, reason: str) -> str:
    """The hold header value: printable ASCII only (HTTP header rules), at most MAX_HOLD."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"{who} {stamp} {reason}".strip()
    text = re.sub(r"[^\x20-\x7e]+", "?", re.sub(r"\s+", " ", text))
    return text[:MAX_HOLD]


def _with_headers(job: types.Job, hold: str | None) -> types.Job:
    """Only the name and http_target of `job`, its hold header set to `hold` (None: removed)."""
    pb = types.Job.pb(job)
    target = type(pb.http_target)()
    target.CopyFrom(pb.http_target)
    for key in list(target.headers):
        if key.lower() in SERVER_HEADERS or key.lower() == HOLD_HEADER.lower():
            del target.headers[key]
    if hold is not None:
        target.headers[HOLD_HEADER] = hold
    out = types.Job(name=pb.name)
    types.Job.pb(out).http_target.CopyFrom(target)
    return out


def _set_hold(client, job: types.Job, hold: str | None, retry: RetryPolicy) -> None:
    mask = field_mask_pb2.FieldMask(paths=["http_target"])
    retry.call(
        lambda: client.update_job(
            job=_with_headers(job, hold), update_mask=mask, retry=None, timeout=CALL_TIMEOUT
        )
    )


def _error(err: gexc.GoogleAPICallError) -> str:
    return f"{type(err).__name__}: {err.message}"


def pause_job(client, job: types.Job, hold: str, retry: RetryPolicy) -> JobResult:
    """Mark `job` held and pause it (a job already paused is only marked)."""
    job_id = short_id(job.name)
    state = types.Job.pb(job).state
    try:
        _set_hold(client, job, hold, retry)
    except gexc.GoogleAPICallError as err:
        return JobResult(job_id, False, "not paused", f"marking failed, {_error(err)}")
    if state == types.Job.State.PAUSED:
        return JobResult(job_id, True, "held (it was already paused)")
    try:
        retry.call(lambda: client.pause_job(name=job.name, retry=None, timeout=CALL_TIMEOUT))
    except gexc.GoogleAPICallError as err:
        return JobResult(
            job_id, False, "marked held but NOT paused: it will fire", f"PauseJob: {_error(err)}"
        )
    return JobResult(job_id, True, "paused and held")


def resume_job(client, job: types.Job, enabled_in_file: bool, retry: RetryPolicy) -> JobResult:
    """Lift the hold on `job`: resume it when its file says enabled, then remove the header."""
    job_id = short_id(job.name)
    if hold_of(job) is None:
        return JobResult(job_id, True, "not held, left as is")
    state = types.Job.pb(job).state
    resumed = False
    if enabled_in_file and state == types.Job.State.PAUSED:
        try:
            retry.call(lambda: client.resume_job(name=job.name, retry=None, timeout=CALL_TIMEOUT))
        except gexc.GoogleAPICallError as err:
            return JobResult(job_id, False, "still paused and held", f"ResumeJob: {_error(err)}")
        resumed = True
    try:
        _set_hold(client, job, None, retry)
    except gexc.GoogleAPICallError as err:
        what = "resumed, but the hold mark stays" if resumed else "hold mark not removed"
        return JobResult(job_id, False, what, f"UpdateJob: {_error(err)}")
    if resumed:
        return JobResult(job_id, True, "resumed, hold removed")
    if not enabled_in_file:
        return JobResult(job_id, True, "hold removed; stays paused (its file says enabled: false)")
    return JobResult(job_id, True, "hold removed (it was running)")
