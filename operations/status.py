"""`schedule.py status`: each schedule's state, last attempt, recent runs and missed fires (pure).

Inputs are what two list calls return: the environment's Cloud Scheduler jobs (ListJobs) and
its PipelineJobs created in the window (ListPipelineJobs by `labels.environment`). A job's
schedule name, cron and zone come from the job itself (what really fires), not from the files.

A *missed fire* is a cron slot of an enabled job, inside the window, at least `grace` old, with
no run labelled with that slot's fire time. Slots before the job's last configuration change
(`user_update_time`: created, edited, paused or resumed) are not counted, since the job may not
have existed or fired on another cron then; a pause earlier in the window is not visible in the
API otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.scheduler_v1 import types

from contract.naming import fire_stamp, schedule_label
from operations.runs import Run, console_link
from scheduling import cron
from scheduling.jobs import hold_of, short_id

FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: How many slots of one schedule a status looks at, at most (a minutely cron over 30 days).
MAX_SLOTS = 50_000


@dataclass(frozen=True)
class JobView:
    """What status needs of one Cloud Scheduler job."""

    job_id: str
    schedule: str
    cron: str
    time_zone: str
    state: str
    hold: str | None
    last_attempt: datetime | None
    attempt_code: int
    attempt_message: str
    updated: datetime | None


def _ts(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def job_view(job: types.Job, prefix: str) -> JobView:
    """The status-relevant fields of a job; its schedule name from its trigger body."""
    job_id = short_id(job.name)
    name = job_id.removeprefix(prefix)
    try:
        body = json.loads(types.Job.pb(job).http_target.body or b"{}")
        if isinstance(body, dict) and isinstance(body.get("schedule"), str) and body["schedule"]:
            name = body["schedule"]
    except ValueError:
        pass
    pb = types.Job.pb(job)
    return JobView(
        job_id=job_id,
        schedule=name,
        cron=job.schedule,
        time_zone=job.time_zone or "UTC",
        state=types.Job.State(pb.state).name,
        hold=hold_of(job),
        last_attempt=_ts(job.last_attempt_time),
        attempt_code=pb.status.code,
        attempt_message=pb.status.message,
        updated=_ts(job.user_update_time),
    )


@dataclass
class ScheduleStatus:
    """Everything status reports about one schedule."""

    job: JobView
    next_fire: datetime | None
    runs: list[Run]
    recent: list[Run]
    succeeded: int
    failed: int
    running: list[Run]
    missed: list[datetime]
    links: dict[str, str] = field(default_factory=dict)
    #: the latest slot at least `grace` old (counted slots only), and its run if there is one
    last_slot: datetime | None = None
    last_slot_run: Run | None = None

    @property
    def success_rate(self) -> float | None:
        done = self.succeeded + self.failed
        return self.succeeded / done if done else None


def slots(expr: str, time_zone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end), DST-correct (scheduling.cron), at most MAX_SLOTS."""
    return cron.fire_times_between(expr, time_zone, start, end)[-MAX_SLOTS:]


def schedule_status(
    job: JobView,
    runs: list[Run],
    *,
    now: datetime,
    window: timedelta,
    grace: timedelta,
    recent: int,
    project: str,
    region: str,
) -> ScheduleStatus:
    """The status of one schedule from its job and the environment's runs in the window."""
    label = schedule_label(job.schedule)
    mine = sorted(
        (r for r in runs if r.labels.get("schedule") == label),
        key=lambda r: r.create_time or now,
        reverse=True,
    )
    enabled = job.state == "ENABLED"
    nxt = cron.next_fire_times(job.cron, job.time_zone, now, 1) if enabled else []
    missed: list[datetime] = []
    last_slot, last_slot_run = None, None
    if enabled:
        start = now - window
        if job.updated is not None and job.updated > start:
            start = job.updated
        by_stamp = {r.fire_stamp: r for r in mine if r.fire_stamp}
        counted = slots(job.cron, job.time_zone, start, now - grace)
        missed = [s for s in counted if fire_stamp(s) not in by_stamp]
        if counted:
            last_slot = counted[-1]
            last_slot_run = by_stamp.get(fire_stamp(last_slot))
    shown = mine[:recent]
    return ScheduleStatus(
        job=job,
        next_fire=nxt[0] if nxt else None,
        runs=mine,
        recent=shown,
        succeeded=sum(1 for r in mine if r.state == "SUCCEEDED"),
        failed=sum(1 for r in mine if r.state in ("FAILED", "CANCELLED")),
        running=[r for r in mine if r.state not in FINISHED],
        missed=missed,
        links={r.job_id: console_link(project, region, r.job_id) for r in shown},
        last_slot=last_slot,
        last_slot_run=last_slot_run,
    )


def parse_window(text: str) -> timedelta:
    """`7d`, `36h`, `90m` as a timedelta; ValueError naming the accepted forms."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) >= 2 and text[-1] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return timedelta(**{units[text[-1]]: int(text[:-1])})
    raise ValueError(f"window '{text}' is not a positive number of days, hours or minutes (7d)")


# --- rendering --------------------------------------------------------------------------------
def _utc(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else "-"


def _duration(run: Run, now: datetime) -> str:
    if run.start_time is None:
        return "-"
    seconds = int(((run.end_time or now) - run.start_time).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    text = (
        f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"
    )
    return text + ("" if run.end_time else " so far")


def _state_text(job: JobView) -> str:
    if job.hold is not None and job.state == "PAUSED":
        return f"PAUSED, held by operator ({job.hold})"
    return job.state


def _attempt_text(job: JobView) -> str:
    if job.last_attempt is None:
        return "never attempted"
    result = "OK" if job.attempt_code == 0 else f"FAILED (code {job.attempt_code}"
    if job.attempt_code != 0:
        result += f": {job.attempt_message})" if job.attempt_message else ")"
    return f"{_utc(job.last_attempt)}  {result}"


def status_text(items: list[ScheduleStatus], now: datetime, window: str, calls: str) -> str:
    """Status for people: one block per schedule."""
    lines = [f"Status at {_utc(now)} (window {window}; {calls})"]
    for st in items:
        job = st.job
        lines.append("")
        lines.append(
            f'{job.schedule}  [{job.job_id}]  {_state_text(job)}  "{job.cron}" {job.time_zone}'
        )
        if st.next_fire is not None:
            lines.append(f"  next fire     {st.next_fire.isoformat()}  = {_utc(st.next_fire)}")
        lines.append(f"  last attempt  {_attempt_text(job)}")
        if st.last_slot is not None:
            run = st.last_slot_run
            verdict = f"{run.state} ({run.job_id})" if run else "NO RUN"
            lines.append(f"  last slot     {_utc(st.last_slot)}  {verdict}")
        rate = st.success_rate
        rate_text = "no finished runs" if rate is None else f"{rate:.0%} succeeded"
        lines.append(
            f"  runs ({window})   {len(st.runs)}: {st.succeeded} succeeded, {st.failed} failed, "
            f"{len(st.running)} not finished; {rate_text}"
        )
        if st.missed:
            shown = ", ".join(_utc(m) for m in st.missed[-10:])
            more = f" (last 10 of {len(st.missed)})" if len(st.missed) > 10 else ""
            lines.append(f"  ! fires with no run{more}: {shown}")
        for run in st.recent:
            kind = "manual" if run.labels.get("trigger") == "manual" else run.fire_stamp
            lines.append(
                f"    {run.state:<10} {_utc(run.start_time or run.create_time)}  "
                f"{_duration(run, now):<14} {kind}  {st.links[run.job_id]}"
            )
            if run.error:
                lines.append(f"      error: {run.error[:300]}")
    return "\n".join(lines)


def status_json(items: list[ScheduleStatus], now: datetime, meta: dict[str, Any]) -> dict:
    """Status for machines."""
    out = []
    for st in items:
        job = st.job
        out.append(
            {
                "schedule": job.schedule,
                "job": job.job_id,
                "state": job.state,
                "held_by_operator": job.hold if job.state == "PAUSED" else None,
                "cron": job.cron,
                "time_zone": job.time_zone,
                "next_fire": st.next_fire.isoformat() if st.next_fire else None,
                "next_fire_utc": _utc(st.next_fire) if st.next_fire else None,
                "last_attempt": {
                    "time": _utc(job.last_attempt) if job.last_attempt else None,
                    "code": job.attempt_code,
                    "message": job.attempt_message,
                },
                "runs_in_window": len(st.runs),
                "succeeded": st.succeeded,
                "failed": st.failed,
                "success_rate": st.success_rate,
                "running": [r.job_id for r in st.running],
                "missed_fires": [_utc(m) for m in st.missed],
                "last_slot": {
                    "fire_time": _utc(st.last_slot),
                    "job_id": st.last_slot_run.job_id if st.last_slot_run else None,
                    "state": st.last_slot_run.state if st.last_slot_run else None,
                }
                if st.last_slot
                else None,
                "recent_runs": [
                    {
                        "job_id": r.job_id,
                        "state": r.state,
                        "trigger": r.labels.get("trigger", ""),
                        "fire_time": r.fire_stamp or None,
                        "start": _utc(r.start_time) if r.start_time else None,
                        "end": _utc(r.end_time) if r.end_time else None,
                        "duration": _duration(r, now),
                        "error": r.error or None,
                        "link": st.links[r.job_id],
                    }
                    for r in st.recent
                ],
            }
        )
    return {"now": _utc(now), **meta, "schedules": out}
