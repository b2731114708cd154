"""Setup steps: each looks before it changes anything (pure decisions, no I/O here).

A step names the read-only commands that tell what exists (`looks`), decides from their answers
which commands to run (`decide`; nothing when all is in place, so a second run changes
nothing), and lists every command it might run with the condition (`possible`, for --dry-run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.gcloud import Command, Looked, gcloud

Facts = dict[str, Any]


@dataclass
class Decision:
    """What a step does after looking: commands to run, one status word, notes for people."""

    commands: list[Command] = field(default_factory=list)
    status: str = "ok"
    detail: str = ""
    notes: list[str] = field(default_factory=list)


class Step(Protocol):
    """One unit of the setup (see the module docstring)."""

    title: str

    def looks(self, facts: Facts) -> list[Command]:
        """The read-only commands whose answers `decide` needs, in order."""
        ...

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        """The commands to run given what the looks found (none when all is in place)."""
        ...

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        """Every change command this step might run, each with the condition it runs under."""
        ...


@dataclass
class Services:
    """Enable the APIs the project needs (one `services enable` for the missing ones)."""

    project: str
    apis: dict[str, str]

    @property
    def title(self) -> str:
        return f"APIs of project {self.project}"

    def looks(self, facts: Facts) -> list[Command]:
        return [gcloud("services", "list", "--enabled", "--project", self.project, "--format=json")]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        enabled = {_service_name(item) for item in (looked[0].data or [])}
        missing = [api for api in self.apis if api not in enabled]
        if not missing:
            return Decision(detail=f"{len(self.apis)} enabled")
        return Decision([self._enable(missing)], "enabled", ", ".join(missing))

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [(self._enable(list(self.apis)), "only the ones not enabled yet")]

    def _enable(self, apis: list[str]) -> Command:
        return gcloud("services", "enable", *apis, "--project", self.project)


def _service_name(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    config = item.get("config") or {}
    return config.get("name") or str(item.get("name", "")).rsplit("/", 1)[-1]


@dataclass
class ServiceAccount:
    """Create a service account of the project when it does not exist."""

    project: str
    email: str
    role: str
    why: str

    @property
    def title(self) -> str:
        return f"service account {self.email} ({self.role})"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "iam",
                "service-accounts",
                "describe",
                self.email,
                "--project",
                self.project,
                "--format=json",
            )
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if looked[0].found:
            return Decision(detail="exists")
        return Decision([self._create()], "created")

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [(self._create(), "if it does not exist")]

    def _create(self) -> Command:
        account_id = self.email.split("@", 1)[0]
        return gcloud(
            "iam",
            "service-accounts",
            "create",
            account_id,
            "--project",
            self.project,
            f"--display-name=churn {self.role}",
            f"--description={self.why}",
        )


@dataclass
class Bucket:
    """A bucket in the region with uniform bucket-level access and public access prevention."""

    project: str
    name: str
    region: str

    @property
    def title(self) -> str:
        return f"bucket gs://{self.name}"

    def looks(self, facts: Facts) -> list[Command]:
        return [gcloud("storage", "buckets", "describe", f"gs://{self.name}", "--format=json")]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if not looked[0].found:
            return Decision([self._create()], "created", f"in {self.region}")
        data = looked[0].data or {}
        decision = Decision(detail="exists")
        if not (
            data.get("uniform_bucket_level_access") is True
            and str(data.get("public_access_prevention", "")).lower() == "enforced"
        ):
            decision = Decision([self._update()], "updated", "uniform access + no public access")
        location = str(data.get("location", "")).lower()
        if location and location != self.region:
            decision.notes.append(
                f"gs://{self.name} is in {location}, not {self.region}: a bucket cannot move; "
                "Dataproc and Vertex AI read it across regions (slower, egress cost)"
            )
        return decision

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [
            (self._create(), "if it does not exist"),
            (self._update(), "if it exists without uniform access or public access prevention"),
        ]

    def _create(self) -> Command:
        return gcloud(
            "storage",
            "buckets",
            "create",
            f"gs://{self.name}",
            "--project",
            self.project,
            "--location",
            self.region,
            "--uniform-bucket-level-access",
            "--public-access-prevention",
        )

    def _update(self) -> Command:
        return gcloud(
            "storage",
            "buckets",
            "update",
            f"gs://{self.name}",
            "--uniform-bucket-level-access",
            "--public-access-prevention",
        )


@dataclass
class Repository:
    """The Artifact Registry docker repository of the components image."""

    project: str
    name: str
    region: str

    @property
    def title(self) -> str:
        return f"docker repository {self.region}-docker.pkg.dev/{self.project}/{self.name}"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "artifacts",
                "repositories",
                "describe",
                self.name,
                "--location",
                self.region,
                "--project",
                self.project,
                "--format=json",
            )
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if not looked[0].found:
            return Decision([self._create()], "created")
        data = looked[0].data or {}
        decision = Decision(detail="exists")
        if str(data.get("format", "DOCKER")).upper() != "DOCKER":
            decision.notes.append(
                f"repository {self.name} exists with format {data.get('format')}, not DOCKER: "
                "the components image cannot be pushed there"
            )
        return decision

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [(self._create(), "if it does not exist")]

    def _create(self) -> Command:
        return gcloud(
            "artifacts",
            "repositories",
            "create",
            self.name,
            "--repository-format=docker",
            "--location",
            self.region,
            "--project",
            self.project,
            "--description=churn pipelines: components image",
        )
