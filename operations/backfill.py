"""`schedule.py backfill`: every cron slot of a range submitted as that slot's scheduled fire.

Each slot is one trigger call with the job's own body and X-CloudScheduler-ScheduleTime = slot,
so its PipelineJob id is the one a scheduled fire would have had: a slot that already ran
answers `already_exists` (reported as skipped) and running a backfill twice creates nothing.
When the schedule's max_concurrent_runs is reached the trigger answers `skipped`; the slot waits
and is offered again (bounded by `max_wait`), as are transient errors (503, no answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from contract.naming import fire_stamp, job_id
from operations.invoke import Answer
from scheduling import cron

#: More slots than this in one backfill is refused (a typo in --from should not start 10,000
#: pipeline runs); split the range.
MAX_SLOTS = 500


@dataclass(frozen=True)
class SlotResult:
    """What happened to one slot."""

    fire_time: datetime
    job_id: str
    outcome: str  # created | skipped (already ran) | not submitted | failed | would submit | ran
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome not in ("failed", "not submitted")


def parse_time(text: str, time_zone: str, what: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is read in the schedule's zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{what} '{text}' is not an ISO 8601 date or time (2026-03-23 or 2026-03-23T05:30)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=cron.zone(time_zone))
    return when


def slots_in(expr: str, time_zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The slots of [start, end), DST-correct; ValueError when the range is empty or too big."""
    if end <= start:
        raise ValueError(f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    found = cron.fire_times_between(expr, time_zone, start, end)
    if len(found) > MAX_SLOTS:
        raise ValueError(
            f"{len(found)} slots between {start.isoformat()} and {end.isoformat()}: more than "
            f"{MAX_SLOTS} in one backfill is refused; split the range"
        )
    return found


def dry_run(
    environment: str, schedule: str, fires: list[datetime], ran: dict[str, tuple[str, str]]
) -> list[SlotResult]:
    """Each slot and whether it already ran (`ran`: fire stamp -> (job id, state))."""
    out = []
    for when in fires:
        known = ran.get(fire_stamp(when))
        if known:
            out.append(SlotResult(when, known[0], "ran", known[1]))
        else:
            out.append(SlotResult(when, job_id(environment, schedule, when), "would submit"))
    return out


@dataclass
class Submitter:
    """Submits one slot, waiting out max_concurrent_runs and transient errors (bounded)."""

    call: Callable[[datetime], Answer]
    environment: str
    schedule: str
    max_wait: float = 600.0
    poll: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def submit(self, when: datetime) -> SlotResult:
        """Call the trigger for `when` until it answers for good or `max_wait` has passed."""
        expected = job_id(self.environment, self.schedule, when)
        deadline = self.clock() + self.max_wait
        delay = min(1.0, self.poll)
        while True:
            answer = self.call(when)
            got = answer.job_id or expected
            if answer.status == 200 and answer.outcome == "created":
                return SlotResult(when, got, "created")
            if answer.status == 200 and answer.outcome == "already_exists":
                return SlotResult(when, got, "skipped", "already ran")
            busy = answer.status == 200 and answer.outcome == "skipped"
            if not (busy or answer.transient):
                return SlotResult(when, got, "failed", f"HTTP {answer.status}: {answer.message}")
            if self.clock() + delay > deadline:
                why = "max_concurrent_runs still reached" if busy else answer.message
                return SlotResult(
                    when, got, "not submitted", f"gave up after {self.max_wait:.0f}s: {why}"
                )
            self.sleep(self.poll if busy else delay)
            delay = min(delay * 2, self.poll)


def submit_all(submitter: Submitter, fires: list[datetime], parallel: int) -> list[SlotResult]:
    """Every slot, at most `parallel` at a time, results in slot order."""
    if parallel <= 1:
        return [submitter.submit(when) for when in fires]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(submitter.submit, fires))


def utc(when: datetime) -> str:
    """`when` in UTC, ISO 8601 with 'Z'."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
