"""The project's own resources: its APIs, service accounts, buckets and docker repository.

Each looks with one describe (or list) and creates what is missing (infra/step.py); an existing
one is corrected in place where the setup can (a bucket's access settings) and reported where
it cannot (a bucket in another region, a repository of another format).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infra.gcloud import Address, Command, gcloud
from infra.step import Change, Create, Enable, Facts, Named, Outcome, Resource, Update, fields

#: Uniform bucket-level access and public access prevention, on create and on update.
_PROTECTED = ("--uniform-bucket-level-access", "--public-access-prevention")


@dataclass
class Services(Resource):
    """Enable the APIs the project needs (one `services enable` for the missing ones)."""

    project: str
    apis: dict[str, str]

    @property
    def title(self) -> str:
        return f"APIs of project {self.project}"

    def describe(self) -> Command:
        return gcloud("services", "list", "--enabled", "--project", self.project, "--format=json")

    def fixes(self, facts: Facts) -> list[Change]:
        return [self._enable(list(self.apis))]

    def missing(self, facts: Facts) -> Outcome:
        # A list answered "not found" (the project, say): enabling then fails with the reason.
        return self.found([], facts)

    def found(self, data: Any, facts: Facts) -> Outcome:
        enabled = {_service_name(item) for item in data or []}
        wanted = [api for api in self.apis if api not in enabled]
        if not wanted:
            return Outcome(detail=f"{len(self.apis)} enabled")
        return Outcome([self._enable(wanted)], ", ".join(wanted))

    def _enable(self, apis: list[str]) -> Enable:
        return Enable(gcloud("services", "enable", *apis, "--project", self.project))


def _service_name(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    config = item.get("config") or {}
    return config.get("name") or str(item.get("name", "")).rsplit("/", 1)[-1]


@dataclass
class ServiceAccount(Named):
    """Create a service account of the project when it does not exist."""

    role: str
    why: str

    def creates(self, facts: Facts) -> list[Create]:
        # Created by its account id; described by its e-mail.
        new = replace(self.address, name=self.address.name.split("@", 1)[0])
        flags = (f"--display-name=churn {self.role}", f"--description={self.why}")
        return [Create(new.command("create", *flags))]


def service_account(project: str, email: str, role: str, why: str) -> ServiceAccount:
    """The step of account `email`: `role` is what it is for here, `why` its description."""
    address = Address(("iam", "service-accounts"), email, ("--project", project))
    return ServiceAccount(f"service account {email} ({role})", address, role, why)


@dataclass
class Bucket(Named):
    """A bucket in the region with uniform bucket-level access and public access prevention."""

    project: str
    region: str

    def creates(self, facts: Facts) -> list[Create]:
        where = ("--project", self.project, "--location", self.region)
        return [Create(self.address.command("create", *where, *_PROTECTED))]

    def created(self, facts: Facts) -> str:
        return f"in {self.region}"

    def fixes(self, facts: Facts) -> list[Change]:
        return [
            Update(
                self.address.command("update", *_PROTECTED),
                "if it exists without uniform access or public access prevention",
            )
        ]

    def found(self, data: Any, facts: Facts) -> Outcome:
        data = fields(data)
        outcome = Outcome(detail="exists")
        if not (
            data.get("uniform_bucket_level_access") is True
            and str(data.get("public_access_prevention", "")).lower() == "enforced"
        ):
            outcome = Outcome(self.fixes(facts), "uniform access + no public access")
        location = str(data.get("location", "")).lower()
        if location and location != self.region:
            outcome.notes.append(
                f"{self.address.name} is in {location}, not {self.region}: a bucket cannot "
                "move; Dataproc and Vertex AI read it across regions (slower, egress cost)"
            )
        return outcome


def bucket(project: str, name: str, region: str) -> Bucket:
    """The step of bucket `name` (its address is its policy's too)."""
    return Bucket(
        f"bucket gs://{name}", Address(("storage", "buckets"), f"gs://{name}"), project, region
    )


class Repository(Named):
    """The Artifact Registry docker repository of the components image."""

    def creates(self, facts: Facts) -> list[Create]:
        # --repository-format before the scope: the order the dry run has always printed.
        a = self.address
        description = "--description=churn pipelines: components image"
        docker = "--repository-format=docker"
        return [Create(gcloud(*a.group, "create", a.name, docker, *a.scope, description))]

    def found(self, data: Any, facts: Facts) -> Outcome:
        outcome = Outcome(detail="exists")
        form = fields(data).get("format", "DOCKER")
        if str(form).upper() != "DOCKER":
            outcome.notes.append(
                f"repository {self.address.name} exists with format {form}, not DOCKER: "
                "the components image cannot be pushed there"
            )
        return outcome


def repository(project: str, region: str, name: str) -> Repository:
    """The step of docker repository `name` (its address is its policy's too)."""
    scope = ("--location", region, "--project", project)
    address = Address(("artifacts", "repositories"), name, scope, f"repository {name}")
    return Repository(f"docker repository {region}-docker.pkg.dev/{project}/{name}", address)
