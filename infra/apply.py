"""Run the setup steps (look, then change only what is missing) or print them (--dry-run)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from infra.gcloud import Command, Runner
from infra.step import Change, Facts, Outcome, Step, in_order


@dataclass
class Report:
    """What a real run did: how many commands changed something, each step's outcome."""

    changes: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """What the steps found for people to do, in step order."""
        return [note for outcome in self.outcomes for note in outcome.notes]

    def any(self, kind: type[Outcome]) -> bool:
        """Whether a step ended in an outcome of `kind` (Waiting, Differs)."""
        return any(isinstance(outcome, kind) for outcome in self.outcomes)


def run(steps: list[Step], runner: Runner, out: Callable[[str], None]) -> Report:
    """Look at each step, make the changes it decides on, one line per step on `out`."""
    report = Report()
    facts: Facts = {}
    for step in steps:
        answers = {command: runner.look(command) for command in step.looks(facts)}
        outcome = step.decide(answers, facts)
        for change in outcome.changes:
            runner.change(change.command)
        report.outcomes.append(outcome)
        detail = f": {outcome.detail}" if outcome.detail else ""
        out(f"  {outcome.word:<8} {step.title}{detail}")
    report.changes = runner.changes
    return report


def dry_run(steps: list[Step], out: Callable[[str], None]) -> int:
    """Print every command a run could execute, in order, each change with its condition."""
    count = 0
    for step, looks, changes in _every_command(steps):
        out(f"# {step.title}")
        for command in looks:
            out(command.text())
        for change in changes:
            out(change.dry_run_line())
        count += len(looks) + len(changes)
    return count


def programs(steps: list[Step]) -> set[str]:
    """The CLIs (gcloud, bq) the steps may run."""
    return {
        command.program
        for _, looks, changes in _every_command(steps)
        for command in [*looks, *(change.command for change in changes)]
    }


def _every_command(steps: list[Step]) -> Iterator[tuple[Step, list[Command], list[Change]]]:
    facts: Facts = {}
    for step in steps:
        yield step, step.looks(facts), in_order(step.possible(facts))
