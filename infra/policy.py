"""IAM bindings on one resource: read its policy once, add only the bindings it lacks.

`add-iam-policy-binding` is itself idempotent, but looking first keeps a second run free of any
write and lets the setup point out roles its own accounts hold there that it did not grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.conditions import Condition
from infra.gcloud import Command, Looked, gcloud
from infra.steps import Decision, Facts

#: A binding as compared: (member, role, condition expression or "" for none).
Key = tuple[str, str, str]


@dataclass(frozen=True)
class Wanted:
    """One binding the setup wants: member, role, why, and the condition it holds under."""

    member: str
    role: str
    why: str
    condition: Condition | None = None

    @property
    def key(self) -> Key:
        return (self.member, self.role, self.condition.expression if self.condition else "")


@dataclass(frozen=True)
class Target:
    """A resource with an IAM policy, as gcloud addresses it."""

    group: tuple[str, ...]  # e.g. ("storage", "buckets")
    resource: str
    scope: tuple[str, ...] = ()  # e.g. ("--location", "europe-west4", "--project", "p")
    label: str = ""
    #: e.g. ("--condition=None",): without it gcloud refuses (or prompts) to add an
    #: unconditional binding to a policy that holds conditional ones.
    add_extra: tuple[str, ...] = ()

    def get(self) -> Command:
        """The command that reads the policy."""
        return gcloud(*self.group, "get-iam-policy", self.resource, *self.scope, "--format=json")

    def add(self, member: str, role: str, condition: Condition | None = None) -> Command:
        """The command that adds one binding (under `condition` when given)."""
        extra = (condition.flag(),) if condition else self.add_extra
        return gcloud(
            *self.group,
            "add-iam-policy-binding",
            self.resource,
            *self.scope,
            f"--member={member}",
            f"--role={role}",
            *extra,
        )

    def remove(self, member: str, role: str, condition: Condition | None = None) -> Command:
        """The command that removes one binding (printed for people, never run)."""
        extra = (condition.flag(),) if condition else self.add_extra
        return gcloud(
            *self.group,
            "remove-iam-policy-binding",
            self.resource,
            *self.scope,
            f"--member={member}",
            f"--role={role}",
            *extra,
        )


@dataclass
class Policy:
    """Grant `wanted` on `target`; `waits_for` names what must exist first when it may not."""

    target: Target
    wanted: list[Wanted]
    waits_for: str = ""

    @property
    def title(self) -> str:
        return f"roles on {self.target.label or self.target.resource}"

    def looks(self, facts: Facts) -> list[Command]:
        return [self.target.get()]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if not looked[0].found:
            if self.waits_for:
                return Decision(status="waiting", detail=f"{self.waits_for} does not exist yet")
            raise LookupError(f"{self.target.label or self.target.resource} does not exist")
        held = bindings(looked[0].data)
        missing = [w for w in self.wanted if w.key not in held]
        decision = Decision(detail=f"{len(self.wanted)} binding(s) in place")
        if missing:
            decision = Decision(
                [self.target.add(w.member, w.role, w.condition) for w in missing],
                "granted",
                ", ".join(f"{w.role} to {_who(w.member)}" for w in missing),
            )
        decision.notes += self._extras(held)
        return decision

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        condition = "if not bound yet"
        if self.waits_for:
            condition += f" (and only once {self.waits_for} exists)"
        return [(self.target.add(w.member, w.role, w.condition), condition) for w in self.wanted]

    def _extras(self, held: dict[Key, Condition | None]) -> list[str]:
        ours = {w.member for w in self.wanted}
        wanted = {w.key for w in self.wanted}
        notes = []
        for key in sorted(set(held) - wanted):
            member, role, expression = key
            if member in ours:
                where = self.target.label or self.target.resource
                under = f" under the condition {expression}" if expression else ""
                notes.append(
                    f"{_who(member)} also holds {role} on {where}{under}, which this setup "
                    "does not grant; if nothing needs it: "
                    f"{self.target.remove(member, role, held[key]).text()}"
                )
        return notes


def bindings(policy: object) -> dict[Key, Condition | None]:
    """The bindings of an IAM policy as gcloud prints it: (member, role, expression) -> its
    condition (None for an unconditional binding)."""
    found: dict[Key, Condition | None] = {}
    if not isinstance(policy, dict):
        return found
    for binding in policy.get("bindings") or []:
        if not isinstance(binding, dict):
            continue
        condition = _condition(binding.get("condition"))
        for member in binding.get("members") or []:
            key = (str(member), str(binding.get("role", "")), _expression(condition))
            found[key] = condition
    return found


def _condition(raw: Any) -> Condition | None:
    if not isinstance(raw, dict) or not raw.get("expression"):
        return None
    return Condition(*(str(raw.get(k) or "") for k in ("title", "expression", "description")))


def _expression(condition: Condition | None) -> str:
    return condition.expression if condition else ""


def _who(member: str) -> str:
    """A member as people read it: the account id of a service account, else the member."""
    kind, _, name = member.partition(":")
    if kind == "serviceAccount" and name.endswith(".iam.gserviceaccount.com"):
        return name.split("@", 1)[0]
    return name or member
