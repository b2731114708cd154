"""The warehouse dataset (BigQuery) of an environment, and its one dataset-level grant.

Commands are the `bq` CLI's, as the BigQuery docs give them:

- exists? `bq --project_id=P show --format=json P:D` (the dataset resource: location, access
  list, etag; "Not found: Dataset P:D" when missing);
- create: `bq --project_id=P --location=R mk --dataset P:D` (a dataset's location is fixed at
  creation, so it goes in the environment's region: load jobs read Parquet from the
  environment's buckets, which must be in the dataset's location);
- grant on the dataset only: "Control access to resources with IAM"
  (https://cloud.google.com/bigquery/docs/control-access-to-resources-iam), bq tab of "Grant
  access to a dataset": write `bq show --format=prettyjson P:D` to a file, add the entry to its
  `access` list, `bq update --source FILE P:D`. We add `--etag` (bq update: "Only update if etag
  matches") so an access change made meanwhile by someone else is never overwritten.
  `bq add-iam-policy-binding` is not used: its reference documents tables and views only.

The API answers access roles in their legacy form (WRITER for roles/bigquery.dataEditor, see
the Dataset resource's `access[].role`), so both forms count as held.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.desired import Binding
from infra.gcloud import Command, bq
from infra.step import Change, Create, Facts, Grant, Outcome, Resource, fields

#: The Dataset resource's legacy role names and the IAM roles they stand for.
LEGACY_ROLES = {
    "OWNER": "roles/bigquery.dataOwner",
    "WRITER": "roles/bigquery.dataEditor",
    "READER": "roles/bigquery.dataViewer",
}
#: Placeholders the runner replaces (file path) and the dry run prints as they are.
SOURCE = "<dataset.json: bq show's answer with the missing access entries>"
ETAG = "<etag from bq show>"


@dataclass
class _Dataset(Resource):
    """What both dataset steps look at: `bq show` of the dataset."""

    project: str
    dataset: str

    @property
    def shown(self) -> str:
        return f"BigQuery dataset {self.project}:{self.dataset}"

    def describe(self) -> Command:
        return bq(f"--project_id={self.project}", "show", "--format=json", self._id)

    @property
    def _id(self) -> str:
        return f"{self.project}:{self.dataset}"


@dataclass
class Dataset(_Dataset):
    """Create the dataset in the environment's region when it does not exist."""

    region: str

    @property
    def title(self) -> str:
        return self.shown

    def creates(self, facts: Facts) -> list[Create]:
        description = (
            "--description=churn warehouse: predictions, model metrics, feature importances, "
            "prepared data"
        )
        where = (f"--project_id={self.project}", f"--location={self.region}")
        return [Create(bq(*where, "mk", "--dataset", description, self._id))]

    def created(self, facts: Facts) -> str:
        return f"in {self.region}"

    def found(self, data: Any, facts: Facts) -> Outcome:
        outcome = Outcome(detail="exists")
        location = str(fields(data).get("location", "")).lower()
        if location and location != self.region:
            outcome.notes.append(
                f"{self.shown} is in {location}, not {self.region}: a dataset cannot move, and "
                f"load jobs from the environment's buckets ({self.region}) into it fail; copy "
                f"it to a dataset in {self.region} and name that one in bigquery_dataset"
            )
        return outcome


@dataclass
class DatasetAccess(_Dataset):
    """Grant roles on the dataset only (its access list), adding just the entries it lacks."""

    grants: list[Binding]

    @property
    def title(self) -> str:
        return f"roles on {self.shown}"

    def fixes(self, facts: Facts) -> list[Change]:
        wanted = ", ".join(f"{g.role} for {g.email}" for g in self.grants)
        return [Grant(self._update("", ETAG), f"if not granted yet ({wanted})")]

    def missing(self, facts: Facts) -> Outcome:
        raise LookupError(f"{self.shown} does not exist")

    def found(self, data: Any, facts: Facts) -> Outcome:
        data = fields(data)
        held = access_held(data.get("access"))
        lacking = [g for g in self.grants if (g.email, g.role) not in held]
        outcome = Outcome(detail=f"{len(self.grants)} binding(s) in place")
        if lacking:
            access = list(data.get("access") or [])
            access += [{"role": g.role, "userByEmail": g.email} for g in lacking]
            source = json.dumps({**data, "access": access}, indent=1, sort_keys=True)
            update = self._update(source, str(data.get("etag", "")))
            detail = ", ".join(f"{g.role} to {g.email.split('@', 1)[0]}" for g in lacking)
            outcome = Outcome([Grant(update, self.fixes(facts)[0].when)], detail)
        outcome.notes += self._extras(held)
        return outcome

    def _update(self, source: str, etag: str) -> Command:
        args = [f"--project_id={self.project}", "update", f"--source={SOURCE}"]
        if etag:
            args.append(f"--etag={etag}")
        args += ["-d", self._id]
        return bq(*args, files=((SOURCE, source),) if source else ())

    def _extras(self, held: set[tuple[str, str]]) -> list[str]:
        ours = {g.email for g in self.grants}
        wanted = {(g.email, g.role) for g in self.grants}
        return [
            f"{email.split('@', 1)[0]} also holds {role} on {self.shown}, which this setup does "
            "not grant; if nothing needs it, remove that entry from the dataset's access list "
            "(bq show, then bq update --source)"
            for email, role in sorted(held - wanted)
            if email in ours
        ]


def access_held(access: Any) -> set[tuple[str, str]]:
    """(e-mail, IAM role) pairs of a dataset's access list (legacy role names translated)."""
    pairs: set[tuple[str, str]] = set()
    for entry in access if isinstance(access, list) else []:
        if not isinstance(entry, dict) or not entry.get("role"):
            continue
        role = LEGACY_ROLES.get(str(entry["role"]), str(entry["role"]))
        email = entry.get("userByEmail") or ""
        member = str(entry.get("iamMember") or "")
        if not email and member.startswith("serviceAccount:"):
            email = member.partition(":")[2]
        if email:
            pairs.add((str(email), role))
    return pairs
