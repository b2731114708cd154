"""The one step type of the setup: look, decide, and say every change it might make.

A step names the read-only commands that tell what exists (`looks`), decides from their answers
what to do (`decide`, an `Outcome`: nothing when all is in place, so a second run changes
nothing), and lists every change it might make (`possible`, for --dry-run). Pure: the runner
(infra/apply.py) runs the commands.

Each kind of change is a type (`Create`, `Undelete`, `Update`, `Enable`, `Grant`) carrying its
command, the condition the dry run prints after it, the word a run prints for the step, and its
place in a step's order: what is created comes first (a network before its subnetwork, in the
order the step gives), a deleted custom role is undeleted before it is updated (IAM's
roles.delete reference: a deleted role is out of use until undeleted, within 7 days). Each
kind of outcome that changes nothing is a type too (`Outcome` in place, `Waiting`, `Differs`,
`Blocked`), so the CLI asks "is a step waiting?" of the type, never of a status string.

`Resource` is the common shape: one command shows the thing; what the step does when it is
missing (create it, wait, or stop) and when it is found are its two hooks. `Named` is a
resource gcloud names by an `Address`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from infra.gcloud import Address, Command, Looked

#: What steps tell the steps after them (the subnetwork's range, for the firewall rule).
Facts = dict[str, Any]
#: What each look answered, by its command.
Answers = Mapping[Command, Looked]


@dataclass(frozen=True)
class Change:
    """A command that changes something, and the condition it runs under (dry run)."""

    command: Command
    when: str
    #: Place in a step's order (lower runs first; equal keep the step's order).
    order: ClassVar[int] = 2
    #: The word a run prints for a step that made this change.
    word: ClassVar[str] = "changed"

    def dry_run_line(self) -> str:
        """The command as the dry run prints it, its condition after it."""
        return f"{self.command.text()}  # {self.when}"


@dataclass(frozen=True)
class Create(Change):
    """Create something missing."""

    when: str = "if it does not exist"
    order: ClassVar[int] = 0
    word: ClassVar[str] = "created"


@dataclass(frozen=True)
class Undelete(Change):
    """Bring back something deleted that keeps its name for a while (a custom role: 7 days)."""

    when: str = "if it was deleted (kept 7 days)"
    order: ClassVar[int] = 1
    word: ClassVar[str] = "updated"


@dataclass(frozen=True)
class Update(Change):
    """Correct something that exists otherwise than wanted, in place."""

    word: ClassVar[str] = "updated"


@dataclass(frozen=True)
class Enable(Change):
    """Enable APIs of a project."""

    when: str = "only the ones not enabled yet"
    word: ClassVar[str] = "enabled"


@dataclass(frozen=True)
class Grant(Change):
    """Add a role binding (or an access entry) that is missing."""

    when: str = "if not bound yet"
    word: ClassVar[str] = "granted"


def in_order(changes: Iterable[Change]) -> list[Change]:
    """Changes in the order their kinds run in (stable within a kind)."""
    return sorted(changes, key=lambda change: change.order)


@dataclass
class Outcome:
    """What a step found and does: its changes (none: all in place), a detail for its line,
    notes for people (printed under "Left to do by hand")."""

    changes: list[Change] = field(default_factory=list)
    detail: str = ""
    notes: list[str] = field(default_factory=list)
    #: The word of a step that changes nothing.
    quiet_word: ClassVar[str] = "ok"

    def __post_init__(self) -> None:
        self.changes = in_order(self.changes)

    @property
    def word(self) -> str:
        """The run's word for the step: its first change's, else the outcome's own."""
        return self.changes[0].word if self.changes else self.quiet_word


@dataclass
class Waiting(Outcome):
    """Needs something made after this setup (the trigger function); a later run does it."""

    quiet_word: ClassVar[str] = "waiting"


@dataclass
class Differs(Outcome):
    """Found otherwise than the environment file says, and only a person can fix it (notes)."""

    quiet_word: ClassVar[str] = "differs"


@dataclass
class Blocked(Outcome):
    """Cannot be put right by this setup until a person removes what is in the way (notes)."""

    quiet_word: ClassVar[str] = "blocked"


class Step(ABC):
    """One unit of the setup (see the module docstring)."""

    #: What the step is about, as its line in a run and its header in a dry run say.
    title: str

    @abstractmethod
    def looks(self, facts: Facts) -> list[Command]:
        """The read-only commands whose answers `decide` needs, in the order they run."""

    @abstractmethod
    def decide(self, answers: Answers, facts: Facts) -> Outcome:
        """What to do given what the looks found."""

    @abstractmethod
    def possible(self, facts: Facts) -> list[Change]:
        """Every change this step might make, each with the condition it runs under."""


class Resource(Step):
    """A step about one thing that one command shows (`describe`).

    Missing, it is created (`creates`); a step about something made elsewhere overrides
    `missing` to wait or stop. Found, `found` inspects what the command answered and may make
    the changes listed in `fixes`.
    """

    @abstractmethod
    def describe(self) -> Command:
        """The look that shows the thing (a not-found answer means it is missing)."""

    def creates(self, facts: Facts) -> list[Create]:
        """What makes the thing when it is missing (in order)."""
        return []

    def created(self, facts: Facts) -> str:
        """The detail of the step's line once it created the thing."""
        return ""

    def fixes(self, facts: Facts) -> list[Change]:
        """Every change `found` may make to what exists."""
        return []

    def missing(self, facts: Facts) -> Outcome:
        """What to do when the thing does not exist: create it."""
        creates = self.creates(facts)
        if not creates:
            raise LookupError(f"{self.title}: `{self.describe().text()}` found nothing")
        return Outcome(list(creates), self.created(facts))

    def found(self, data: Any, facts: Facts) -> Outcome:
        """What to do about the thing as the describe answered it: by default, nothing."""
        return Outcome(detail="exists")

    def looks(self, facts: Facts) -> list[Command]:
        return [self.describe()]

    def decide(self, answers: Answers, facts: Facts) -> Outcome:
        answer = answers[self.describe()]
        if not answer.found:
            return self.missing(facts)
        return self.found(answer.data, facts)

    def possible(self, facts: Facts) -> list[Change]:
        return [*self.creates(facts), *self.fixes(facts)]


@dataclass
class Named(Resource):
    """A resource gcloud names by an address, whose describe shows it.

    Each kind has a function that builds its step (title and address included), and the
    policy step on the same resource is given the same address: the two never name it apart.
    """

    title: str
    address: Address

    def describe(self) -> Command:
        return self.address.describe()


def fields(data: Any) -> dict[str, Any]:
    """A describe's JSON object (an empty one when it answered something else)."""
    return data if isinstance(data, dict) else {}
