"""max_concurrent_runs under concurrency: a per-schedule lease object and the decision it holds.

Counting a schedule's running PipelineJobs and then creating one is a race: two fires arriving
together both count zero and both create. So each schedule has one small object on GCS listing
the jobs that hold its slots, and a fire takes a slot by rewriting that object with a generation
precondition (`if_generation_match`): of two fires that read the same generation, exactly one
write succeeds; the other re-reads, sees the new holder and decides again.

A holder keeps its slot while Vertex AI says its job is not finished, or, for `grace` seconds
after it was taken, while the job cannot be found yet (it is being created). When it was taken is
judged by the lease object's own server-side time, not only by the `since` its writer put in: a
holder cannot have been written after the generation that lists it was created, so `parse` caps
every `since` at that generation's `timeCreated` (Cloud Storage sets it and nobody can change it).
A holder dated in the future (a writer's clock ahead, a tampered object) then blocks its schedule
for at most `grace` seconds after that object was written. This module is the pure part (the
object's format and the decision); `gcp_clients.LeaseStore` does the reads and conditional
writes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal

#: Seconds a slot is held for a job that Vertex AI does not list yet.
DEFAULT_GRACE = 600.0

Outcome = Literal["take", "held", "full"]


@dataclass(frozen=True)
class Holder:
    """One job holding a slot, and when (epoch seconds) it took it."""

    job: str
    since: float


@dataclass(frozen=True)
class Decision:
    """What a fire may do: `take` a slot (write `holders`), run on a slot its job already
    `held` (a redelivery racing the first delivery), or nothing because the schedule is `full`."""

    outcome: Outcome
    holders: tuple[Holder, ...]
    running: tuple[str, ...]


def parse(data: bytes | None, written_at: float | None = None) -> list[Holder]:
    """The holders a lease object lists, each dated no later than `written_at` (the server time,
    epoch seconds, at which this generation of the object was created); an absent or unreadable
    object holds nothing.

    Unreadable is not an error: the object is only ever written by this code, and the slots it
    would have held are still counted from Vertex AI's own list of running jobs.
    """
    if not data:
        return []
    try:
        entries = json.loads(data).get("holders", [])
        holders = [Holder(str(e["job"]), float(e["since"])) for e in entries]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return []
    if written_at is None:
        return [h for h in holders if math.isfinite(h.since)]
    return [Holder(h.job, min(h.since, written_at)) for h in holders if not math.isnan(h.since)]


def render(holders: tuple[Holder, ...], schedule: str) -> bytes:
    """The lease object's bytes (small JSON, readable by people debugging a skipped fire)."""
    entries = [{"job": h.job, "since": round(h.since, 3)} for h in holders]
    return json.dumps({"schedule": schedule, "holders": entries}, indent=1).encode()


def decide(
    holders: list[Holder],
    running: set[str],
    unfinished: set[str],
    job: str,
    limit: int,
    now: float,
    grace: float = DEFAULT_GRACE,
) -> Decision:
    """Whether `job` may start, given the lease's `holders`, the schedule's `running` jobs as
    Vertex AI lists them, and which young holders Vertex AI does not know as finished
    (`unfinished`: not found yet, or still running)."""
    live = {
        h.job: h
        for h in holders
        if h.job in running or (now - h.since < grace and h.job in unfinished)
    }
    occupied = tuple(sorted(set(running) | set(live)))
    if job in live:
        return Decision("held", tuple(live.values()), occupied)
    if len(occupied) >= limit:
        return Decision("full", tuple(live.values()), occupied)
    return Decision("take", (*live.values(), Holder(job, now)), occupied)


def released(holders: list[Holder], job: str) -> tuple[Holder, ...]:
    """The holders without `job` (its creation failed, so its slot is free again)."""
    return tuple(h for h in holders if h.job != job)
