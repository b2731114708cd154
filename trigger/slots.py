"""max_concurrent_runs for one fire: take a slot of its schedule's lease, or give it back.

The decision is `lease.decide` (pure); this module does the reads and conditional writes around
it, through a `gcp_clients.LeaseStore` and the `gcp_clients.Vertex` listing of running jobs.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import lease
from settings import Settings
from trigger_request import Fire, TriggerError

from contract import naming

#: Conditional lease writes tried before answering 503 (Cloud Scheduler then retries).
LEASE_ATTEMPTS = 8


def lease_path(settings: Settings, schedule: str) -> str:
    env = naming.label_value(settings.environment)
    name = f"{env}/{naming.schedule_label(schedule)}.json"
    return f"{settings.lease_prefix}/{name}" if settings.lease_prefix else name


@dataclass(frozen=True)
class Slot:
    """Whether a fire may run: `taken` (it wrote the lease), `held` (a delivery of the same fire
    holds it), `unlimited` (no max_concurrent_runs) -> run; `exists` (its job is running) or
    `full` (`running` names the jobs holding every slot) -> do not."""

    outcome: str
    running: tuple[str, ...] = ()


def take_slot(leases: Any, vertex: Any, settings: Settings, fire: Fire, name: str) -> Slot:
    """Decide on the schedule's lease (lease.py), retrying lost races; 503 if they go on."""
    assert fire.schedule and fire.max_concurrent_runs
    path = lease_path(settings, fire.schedule)
    labels = {
        "environment": naming.label_value(settings.environment),
        "schedule": naming.schedule_label(fire.schedule),
    }
    for attempt in range(LEASE_ATTEMPTS):
        data, generation, written_at = leases.read(settings.lease_bucket, path)
        holders = lease.parse(data, written_at)
        running = set(vertex.active_runs(labels, fire.max_concurrent_runs + 1))
        if name in running:
            return Slot("exists")
        now = time.time()
        young = [
            h.job for h in holders if h.job not in running and now - h.since < settings.lease_grace
        ]
        unfinished = vertex.unfinished(young) if young else set()
        decision = lease.decide(
            holders,
            running,
            unfinished,
            name,
            fire.max_concurrent_runs,
            now,
            settings.lease_grace,
        )
        if decision.outcome == "held":
            return Slot("held")
        if decision.outcome == "full":
            return Slot("full", decision.running)
        rendered = lease.render(decision.holders, fire.schedule)
        if leases.write(settings.lease_bucket, path, rendered, generation):
            return Slot("taken")
        # another fire of this schedule wrote first: decide again on what it wrote
        time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise TriggerError(
        503,
        f"the lease of schedule '{fire.schedule}' kept changing ({LEASE_ATTEMPTS} attempts); "
        "retry later",
        "transient",
    )


def release_slot(leases: Any, settings: Settings, fire: Fire, name: str) -> None:
    """Best effort: give the slot back after a failed create (the grace period frees it
    otherwise)."""
    assert fire.schedule
    path = lease_path(settings, fire.schedule)
    for _ in range(3):
        try:
            data, generation, written_at = leases.read(settings.lease_bucket, path)
            rest = lease.released(lease.parse(data, written_at), name)
            if leases.write(
                settings.lease_bucket, path, lease.render(rest, fire.schedule), generation
            ):
                return
        except TriggerError:
            return
