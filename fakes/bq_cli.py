"""A fake `bq` (BigQuery CLI) for the setup tests, sharing the fake gcloud's state folder.

It covers the three commands infra/bootstrap.py runs (`show`, `mk --dataset`, `update --source`)
and answers the way bq and the BigQuery API do where a setup can go wrong: global flags
(--project_id, --location, --format) anywhere, any other unknown flag exits 2; `show` of a
missing dataset says "Not found: Dataset P:D"; the API must be enabled; `mk` without --location
creates the dataset in the US multi-region (bq's default) and adds BigQuery's default access
entries; FAKE_BQ_DENY=<command> answers that command with Access Denied; `update --source`
with a stale --etag fails (precondition), access entries need one
entity and a role a dataset accepts (roles/bigquery.jobUser is project-level only), a service
account must exist, and roles come back in the API's legacy form (WRITER for dataEditor).
Calls go to the same `log.jsonl` as gcloud's, with `"program": "bq"` (fakes/gcloud.py's
`StateFolder`). Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

#: Importing `typing` would cost every call (a process of its own) more than Python's start
#: (PEP 781; as in fakes/gcloud.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

if __package__:
    from fakes.gcloud import StateFolder, record
else:  # run as a script (python -S fakes/bq_cli.py): its folder is on sys.path
    from gcloud import StateFolder, record  # type: ignore[no-redef]

BQ_API = "bigquery.googleapis.com"
DATASET_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
ACCOUNT_EMAIL = re.compile(
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@([a-z0-9-]+)\.iam\.gserviceaccount\.com$"
)
#: IAM roles a dataset's access list takes (and the legacy names the API answers with).
TO_LEGACY = {
    "roles/bigquery.dataOwner": "OWNER",
    "roles/bigquery.dataEditor": "WRITER",
    "roles/bigquery.dataViewer": "READER",
}
DATASET_ROLES = {*TO_LEGACY, *TO_LEGACY.values(), "roles/bigquery.metadataViewer"}
ENTITIES = ("userByEmail", "groupByEmail", "domain", "specialGroup", "iamMember", "view")
GLOBAL = ("project_id", "location", "format")
COMMAND_FLAGS = {
    "show": set(),
    "mk": {"dataset", "d", "description"},
    "update": {"dataset", "d", "source", "etag"},
}
CREATOR = "admin@example.com"


class BqError(Exception):
    """A bq failure: message and exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def parse(argv: list[str]) -> tuple[str, dict[str, str], list[str]]:
    """(command, flags, positionals); flags are `--name=value`, `--name` or `-d`."""
    command, flags, positionals = "", {}, []
    for token in argv:
        if token.startswith("-"):
            name, has_value, value = token.lstrip("-").partition("=")
            allowed = GLOBAL if not command else (*GLOBAL, *COMMAND_FLAGS.get(command, ()))
            if name not in allowed:
                raise BqError(f"FATAL Flags parsing error: Unknown command line flag '{name}'", 2)
            flags[name] = value if has_value else "true"
        elif not command:
            if token not in COMMAND_FLAGS:
                raise BqError(f"Unknown command line. Unknown command: {token}", 2)
            command = token
        else:
            positionals.append(token)
    if not command:
        raise BqError("No command given", 2)
    return command, flags, positionals


class FakeBq(StateFolder):
    """The fake's view of the shared state."""

    def reference(self, operation: str, flags: dict[str, str], ids: list[str]) -> tuple[str, str]:
        if len(ids) != 1:
            raise BqError(f"{operation}: one dataset identifier expected, got {ids}", 2)
        project, _, dataset = ids[0].rpartition(":")
        project = project or flags.get("project_id", "")
        if not project or not DATASET_ID.match(dataset):
            raise BqError(
                f"BigQuery error in {operation} operation: Invalid dataset identifier '{ids[0]}'"
            )
        projects = self.state["projects"]
        if project not in projects:
            raise BqError(
                f"BigQuery error in {operation} operation: Access Denied: Project {project}: "
                "User does not have bigquery.datasets.get permission in project."
            )
        if BQ_API not in projects[project]["services"]:
            raise BqError(
                f"BigQuery error in {operation} operation: BigQuery API has not been used in "
                f"project {project} before or it is disabled."
            )
        if os.environ.get("FAKE_BQ_DENY") == operation:
            # What BigQuery answers a caller without bigquery.datasets.get: note "may not exist".
            raise BqError(
                f"BigQuery error in {operation} operation: Access Denied: Dataset "
                f"{project}:{dataset}: Permission bigquery.datasets.get denied on dataset "
                f"{project}:{dataset} (or it may not exist)."
            )
        return project, dataset

    def datasets(self, project: str) -> dict[str, Any]:
        return self.state["projects"][project].setdefault("datasets", {})

    def existing(self, operation: str, project: str, dataset: str) -> dict[str, Any]:
        found = self.datasets(project).get(dataset)
        if found is None:
            raise BqError(
                f"BigQuery error in {operation} operation: Not found: Dataset {project}:{dataset}"
            )
        return found

    def show(self, flags: dict[str, str], ids: list[str]) -> str:
        if flags.get("format") != "json":
            raise BqError("this fake answers show only with --format=json", 2)
        project, dataset = self.reference("show", flags, ids)
        found = self.existing("show", project, dataset)
        return json.dumps(
            {
                "kind": "bigquery#dataset",
                "id": f"{project}:{dataset}",
                "datasetReference": {"projectId": project, "datasetId": dataset},
                **found,
            },
            indent=2,
        )

    def mk(self, flags: dict[str, str], ids: list[str]) -> str:
        if "dataset" not in flags and "d" not in flags:
            raise BqError("this fake makes datasets only (--dataset)", 2)
        project, dataset = self.reference("mk", flags, ids)
        if dataset in self.datasets(project):
            raise BqError(
                f"BigQuery error in mk operation: Dataset '{project}:{dataset}' already exists."
            )
        self.datasets(project)[dataset] = {
            "location": flags.get("location") or "US",
            "description": flags.get("description", ""),
            "etag": "e1",
            # BigQuery's defaults when a dataset is created without an access list.
            "access": [
                {"role": "WRITER", "specialGroup": "projectWriters"},
                {"role": "OWNER", "specialGroup": "projectOwners"},
                {"role": "OWNER", "userByEmail": CREATOR},
                {"role": "READER", "specialGroup": "projectReaders"},
            ],
        }
        return f"Dataset '{project}:{dataset}' successfully created."

    def update(self, flags: dict[str, str], ids: list[str]) -> str:
        if "dataset" not in flags and "d" not in flags:
            raise BqError("this fake updates datasets only (-d)", 2)
        project, dataset = self.reference("update", flags, ids)
        found = self.existing("update", project, dataset)
        if "etag" in flags and flags["etag"] != found["etag"]:
            raise BqError("BigQuery error in update operation: Precondition check failed.")
        try:
            source = json.loads(Path(flags["source"]).read_text())
        except (KeyError, OSError, ValueError) as err:
            raise BqError(
                f"BigQuery error in update operation: cannot read --source: {err}"
            ) from err
        access = [self.entry(project, dataset, e) for e in source.get("access") or []]
        found["access"] = access
        if "description" in source:
            found["description"] = source["description"]
        found["etag"] = f"e{int(found['etag'][1:]) + 1}"
        return f"Dataset '{project}:{dataset}' successfully updated."

    def entry(self, project: str, dataset: str, entry: Any) -> dict[str, Any]:
        where = f"BigQuery error in update operation: Dataset {project}:{dataset}"
        if not isinstance(entry, dict):
            raise BqError(f"{where}: an access entry must be an object")
        kinds = [k for k in ENTITIES if k in entry]
        if len(kinds) != 1:
            raise BqError(f"{where}: an access entry needs exactly one entity, got {kinds}")
        role = entry.get("role")
        if kinds[0] != "view" and role not in DATASET_ROLES:
            raise BqError(
                f"{where}: Invalid value for role: {role} is not supported for this resource."
            )
        email = str(entry.get("userByEmail", ""))
        match = ACCOUNT_EMAIL.match(email)
        projects = self.state["projects"]
        if (
            match
            and match.group(1) in projects
            and email not in projects[match.group(1)]["accounts"]
        ):
            raise BqError(f"{where}: Service account {email} does not exist.")
        return {**entry, "role": TO_LEGACY.get(role, role)} if role else dict(entry)


def main(argv: list[str]) -> int:
    """Run one fake bq invocation; returns its exit code."""
    root = Path(os.environ["FAKE_GCLOUD_STATE"])
    code = _dispatch(root, argv)
    record(root, {"program": "bq", "argv": argv, "exit": code})
    return code


def _dispatch(root: Path, argv: list[str]) -> int:
    try:
        command, flags, ids = parse(argv)
        fake = FakeBq(root)
        answer = getattr(fake, command)(flags, ids)
        if command != "show":
            fake.save()
        print(answer)
        return 0
    except BqError as err:
        print(str(err), file=sys.stderr)
        return err.code


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main(sys.argv[1:]))
