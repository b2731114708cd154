"""Carrying out a plan: each action's writes through its kind, failures isolated and reported.

A job whose writes still fail after the retries is reported and the others proceed; the next
apply plans again from what is really there, so it converges. When an action lands only part of
its writes (a new `enabled: false` job created but not paused), the outcome says exactly what
landed and what is left wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from google.api_core import exceptions as gexc

from scheduling.actions import PartialWriteError
from scheduling.api import RetryPolicy
from scheduling.diff import Action, Plan


@dataclass
class Outcome:
    """What an apply did: actions completed, writes that landed, and the actions that failed."""

    done: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)
    writes: int = 0
    #: why the apply stopped before the end (the remaining actions are in `failed`)
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def apply_plan(
    client,
    plan: Plan,
    retry: RetryPolicy,
    report=print,
    before_each: Callable[[], str | None] | None = None,
) -> Outcome:
    """Make every write in `plan`; `report` gets one line per action as it completes.

    `before_each` runs before every action (the CLI extends its apply lock there); when it
    returns a reason, the apply stops and the remaining actions are reported as not applied.
    """
    outcome = Outcome()
    failed_jobs: set[str] = set()
    for index, action in enumerate(plan.actions):
        reason = before_each() if before_each is not None else None
        if reason:
            outcome.stopped = reason
            outcome.failed.extend((rest, "not applied: " + reason) for rest in plan.actions[index:])
            report(f"STOPPED: {reason}")
            break
        if action.job_id in failed_jobs:
            # An update that failed must not be followed by a pause/resume of the same job.
            outcome.failed.append((action, "skipped: an earlier write to this job failed"))
            continue
        try:
            writes = action.kind.write(client, plan.parent, action, retry)
        except PartialWriteError as partial:
            failed_jobs.add(action.job_id)
            outcome.writes += partial.landed
            outcome.failed.append((action, partial.message))
            report(f"PARTLY {action.kind.name} {action.job_id}: {partial.message}")
            continue
        except gexc.GoogleAPICallError as err:
            failed_jobs.add(action.job_id)
            message = f"{type(err).__name__}: {err.message}"
            outcome.failed.append((action, message))
            report(f"FAILED {action.kind.name} {action.job_id}: {message}")
            continue
        outcome.writes += writes
        outcome.done.append(action)
        note = "" if writes else " (already so: done by a concurrent apply)"
        report(f"{action.kind.past} {action.job_id}{note}")
    return outcome
