"""IAM bindings on one resource: read its policy once, add only the bindings it lacks.

`add-iam-policy-binding` is itself idempotent, but looking first keeps a second run free of any
write and lets the setup point out roles its own accounts hold there that it did not grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.conditions import Condition
from infra.desired import Binding
from infra.gcloud import Address, Command
from infra.step import Change, Facts, Grant, Outcome, Resource, Waiting

#: A binding as compared: (member, role, condition expression or "" for none).
Key = tuple[str, str, str]


@dataclass
class Policy(Resource):
    """Grant `wanted` on `target`; `waits_for` names what must exist first when it may not.

    `unconditional` goes on every binding without a condition: on a project or bucket policy
    that holds conditional bindings, as ours do, gcloud refuses (or prompts) to add one
    without `--condition=None`.
    """

    target: Address
    wanted: list[Binding]
    waits_for: str = ""
    unconditional: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"roles on {self.target.shown}"

    def describe(self) -> Command:
        return self.target.command("get-iam-policy", "--format=json")

    def fixes(self, facts: Facts) -> list[Change]:
        when = "if not bound yet"
        if self.waits_for:
            when += f" (and only once {self.waits_for} exists)"
        return [
            Grant(self._binding("add", w.member, w.role, w.condition), when) for w in self.wanted
        ]

    def missing(self, facts: Facts) -> Outcome:
        if self.waits_for:
            return Waiting(detail=f"{self.waits_for} does not exist yet")
        raise LookupError(f"{self.target.shown} does not exist")

    def found(self, data: Any, facts: Facts) -> Outcome:
        held = bindings(data)
        grants = zip(self.wanted, self.fixes(facts), strict=True)
        lacking = [(w, grant) for w, grant in grants if w.key not in held]
        outcome = Outcome(detail=f"{len(self.wanted)} binding(s) in place")
        if lacking:
            detail = ", ".join(f"{w.role} to {_who(w.member)}" for w, _ in lacking)
            outcome = Outcome([grant for _, grant in lacking], detail)
        outcome.notes += self._extras(held)
        return outcome

    def _binding(self, verb: str, member: str, role: str, condition: Condition | None) -> Command:
        extra = (condition.flag(),) if condition else self.unconditional
        return self.target.command(
            f"{verb}-iam-policy-binding", f"--member={member}", f"--role={role}", *extra
        )

    def _extras(self, held: dict[Key, Condition | None]) -> list[str]:
        ours = {w.member for w in self.wanted}
        wanted = {w.key for w in self.wanted}
        notes = []
        for key in sorted(set(held) - wanted):
            member, role, expression = key
            if member in ours:
                under = f" under the condition {expression}" if expression else ""
                remove = self._binding("remove", member, role, held[key])
                notes.append(
                    f"{_who(member)} also holds {role} on {self.target.shown}{under}, which this "
                    f"setup does not grant; if nothing needs it: {remove.text()}"
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
