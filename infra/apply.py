"""Run the setup steps (look, then change only what is missing) or print them (--dry-run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from infra.gcloud import Command, Runner
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
    count = 0
    for step, looks, changes in _every_command(steps):
        out(f"# {step.title}")
        for command in looks:
            out(command.text())
            count += 1
        for command, condition in changes:
            out(f"{command.text()}  # {condition}")
            count += 1
    return count


def programs(steps: list[Step]) -> set[str]:
    """The CLIs (gcloud, bq) the steps may run."""
    return {
        command.program
        for _, looks, changes in _every_command(steps)
        for command in [*looks, *(c for c, _ in changes)]
    }


def _every_command(
    steps: list[Step],
) -> Iterator[tuple[Step, list[Command], list[tuple[Command, str]]]]:
    facts: Facts = {}
    for step in steps:
        yield step, step.looks(facts), step.possible(facts)
