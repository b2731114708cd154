"""Custom roles of the project: describe, then create, update or undelete (pure decisions).

A derived role (desired.DATAPROC_WORKER_ROLE) first reads the predefined role it copies
(`gcloud iam roles describe roles/...`), so its permissions follow Google's role on every run.
A custom role deleted in the console stays deleted for 7 days and keeps its id ("Create and
manage custom roles", IAM docs): it is undeleted, not created again (which gcloud refuses).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.desired import CustomRole
from infra.gcloud import Command, Looked, gcloud
from infra.steps import Decision, Facts


@dataclass
class CustomRoleStep:
    """Create or correct one custom role of `project`."""

    project: str
    role: CustomRole

    @property
    def title(self) -> str:
        return f"custom role {self.role.name(self.project)}"

    def looks(self, facts: Facts) -> list[Command]:
        looks = []
        if self.role.derived_from:
            looks.append(
                gcloud("iam", "roles", "describe", self.role.derived_from, "--format=json")
            )
        looks.append(
            gcloud(
                "iam",
                "roles",
                "describe",
                self.role.role_id,
                "--project",
                self.project,
                "--format=json",
            )
        )
        return looks

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        source: list[str] = []
        if self.role.derived_from:
            if not looked[0].found:
                raise LookupError(f"predefined role {self.role.derived_from} was not found")
            source = list((looked[0].data or {}).get("includedPermissions") or [])
        wanted = self.role.wanted(source)
        if not wanted:
            raise LookupError(f"{self.title} would hold no permission")
        current = looked[-1]
        if not current.found:
            return Decision(
                [self._write("create", wanted)], "created", f"{len(wanted)} permissions"
            )
        data = current.data or {}
        commands = []
        if data.get("deleted"):
            commands.append(self._undelete())
        held = tuple(sorted(data.get("includedPermissions") or []))
        if held != wanted or data.get("stage") != "GA" or data.get("deleted"):
            commands.append(self._write("update", wanted))
        if not commands:
            return Decision(detail=f"{len(wanted)} permissions")
        return Decision(commands, "updated", _difference(held, wanted))

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        if self.role.derived_from:
            shown = (
                f"<{self.role.derived_from}'s permissions but {','.join(self.role.without)}*>",
            )
        else:
            shown = self.role.wanted()
        return [
            (self._write("create", shown), "if it does not exist"),
            (self._undelete(), "if it was deleted (kept 7 days)"),
            (self._write("update", shown), "if its permissions or stage differ"),
        ]

    def _write(self, verb: str, permissions: tuple[str, ...]) -> Command:
        return gcloud(
            "iam",
            "roles",
            verb,
            self.role.role_id,
            "--project",
            self.project,
            f"--title={self.role.title}",
            f"--description={self.role.description}",
            f"--permissions={','.join(permissions)}",
            "--stage=GA",
        )

    def _undelete(self) -> Command:
        return gcloud("iam", "roles", "undelete", self.role.role_id, "--project", self.project)


def _difference(held: tuple[str, ...], wanted: tuple[str, ...]) -> str:
    added = sorted(set(wanted) - set(held))
    removed = sorted(set(held) - set(wanted))
    parts = []
    if added:
        parts.append("+" + ", +".join(added))
    if removed:
        parts.append("-" + ", -".join(removed))
    return "; ".join(parts) or "stage GA"
