"""Run the setup steps (look, then change only what is missing) or print them (--dry-run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from infra.gcloud import Runner
from infra.steps import Facts, Step


@dataclass
class Outcome:
    """What a real run did: how many commands changed something, states, notes for people."""

    changes: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run(steps: list[Step], runner: Runner, out: Callable[[str], None]) -> Outcome:
    """Look at each step, run the commands it decides on, one line per step on `out`."""
    outcome = Outcome()
    facts: Facts = {}
    for step in steps:
        looked = [runner.look(command) for command in step.looks(facts)]
        decision = step.decide(looked, facts)
        for command in decision.commands:
            runner.change(command)
        outcome.statuses[step.title] = decision.status
        outcome.notes += decision.notes
        detail = f": {decision.detail}" if decision.detail else ""
        out(f"  {decision.status:<8} {step.title}{detail}")
    outcome.changes = runner.changes
    return outcome


def dry_run(steps: list[Step], out: Callable[[str], None]) -> int:
    """Print every command a run could execute, in order, each change with its condition."""
    facts: Facts = {}
    count = 0
    for step in steps:
        out(f"# {step.title}")
        for command in step.looks(facts):
            out(command.text())
            count += 1
        for command, condition in step.possible(facts):
            out(f"{command.text()}  # {condition}")
            count += 1
    return count
