"""Custom roles of the project: describe, then create, update or undelete (pure decisions).

A derived role (desired.DATAPROC_WORKER_ROLE) first reads the predefined role it copies
(`gcloud iam roles describe roles/...`), so its permissions follow Google's role on every run.
A custom role deleted in the console stays deleted for 7 days and keeps its id ("Create and
manage custom roles", IAM docs): it is undeleted, not created again (which gcloud refuses).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.desired import CustomRole
from infra.gcloud import Address, Command
from infra.step import (
    Answers,
    Change,
    Create,
    Facts,
    Named,
    Outcome,
    Undelete,
    Update,
    fields,
)


@dataclass
class CustomRoleStep(Named):
    """Create or correct one custom role."""

    role: CustomRole

    def _source(self) -> Command:
        return Address(("iam", "roles"), self.role.derived_from).describe()

    def looks(self, facts: Facts) -> list[Command]:
        return [self._source(), self.describe()] if self.role.derived_from else [self.describe()]

    def creates(self, facts: Facts) -> list[Create]:
        return [Create(self._write("create", self._shown()))]

    def fixes(self, facts: Facts) -> list[Change]:
        return [self._undelete(), self._update(self._shown())]

    def decide(self, answers: Answers, facts: Facts) -> Outcome:
        wanted = self._wanted(answers)
        current = answers[self.describe()]
        if not current.found:
            return Outcome([Create(self._write("create", wanted))], f"{len(wanted)} permissions")
        data = fields(current.data)
        changes: list[Change] = []
        if data.get("deleted"):
            changes.append(self._undelete())
        held = tuple(sorted(data.get("includedPermissions") or []))
        if held != wanted or data.get("stage") != "GA" or data.get("deleted"):
            changes.append(self._update(wanted))
        if not changes:
            return Outcome(detail=f"{len(wanted)} permissions")
        return Outcome(changes, _difference(held, wanted))

    def _wanted(self, answers: Answers) -> tuple[str, ...]:
        source: list[str] = []
        if self.role.derived_from:
            answer = answers[self._source()]
            if not answer.found:
                raise LookupError(f"predefined role {self.role.derived_from} was not found")
            source = list(fields(answer.data).get("includedPermissions") or [])
        wanted = self.role.wanted(source)
        if not wanted:
            raise LookupError(f"{self.title} would hold no permission")
        return wanted

    def _shown(self) -> tuple[str, ...]:
        """The permissions as the dry run shows them (a derived role's are known only then)."""
        if self.role.derived_from:
            return (f"<{self.role.derived_from}'s permissions but {','.join(self.role.without)}*>",)
        return self.role.wanted()

    def _undelete(self) -> Undelete:
        return Undelete(self.address.command("undelete"))

    def _update(self, permissions: tuple[str, ...]) -> Update:
        return Update(self._write("update", permissions), "if its permissions or stage differ")

    def _write(self, verb: str, permissions: tuple[str, ...]) -> Command:
        return self.address.command(
            verb,
            f"--title={self.role.title}",
            f"--description={self.role.description}",
            f"--permissions={','.join(permissions)}",
            "--stage=GA",
        )


def custom_role(project: str, role: CustomRole) -> CustomRoleStep:
    """The step of custom role `role` of `project`."""
    address = Address(("iam", "roles"), role.role_id, ("--project", project))
    return CustomRoleStep(f"custom role {role.name(project)}", address, role)


def _difference(held: tuple[str, ...], wanted: tuple[str, ...]) -> str:
    added = sorted(set(wanted) - set(held))
    removed = sorted(set(held) - set(wanted))
    parts = []
    if added:
        parts.append("+" + ", +".join(added))
    if removed:
        parts.append("-" + ", -".join(removed))
    return "; ".join(parts) or "stage GA"
