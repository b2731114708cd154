"""A fake `gcloud` for the setup tests: keeps state in a folder, answers like gcloud does.

Run as an executable (tests put a `gcloud` wrapper on PATH): `FAKE_GCLOUD_STATE` names the
folder holding `state.json` (projects, buckets) and `log.jsonl` (every call and its exit code).
It covers only the commands infra/bootstrap.py uses, and enforces the rules the real services
do that a setup can get wrong: unknown flags exit 2; create on an existing resource, a binding
for a service account that does not exist, a role a resource does not support, a subnetwork in a
missing network or with an overlapping/invalid range, a topic with an invalid id, using an API
before it is enabled (Pub/Sub is not enabled in a new project), a binding without --condition
on a project or bucket policy holding conditions, a condition that is not valid CEL (the subset
in fakes/iam_cel.py) or lacks a title, a condition on a basic role, a custom role naming a
permission the IAM reference does not list for the roles used here (fakes/iam_roles.py),
a binding of a custom role that does not exist (yet), a grant on a secret or bucket that does
not exist: all exit 1 with gcloud's kind of message. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import ipaddress
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

#: Every call is a process of its own, and importing `typing` alone can take 10 ms, longer than
#: Python's start (PEP 781, which names this module-level constant as the usual way round it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _sibling(name: str) -> ModuleType:
    """fakes.iam_cel or fakes.iam_roles, imported on first use: every gcloud call is a process
    of its own and most need neither (the CEL parser alone is about a fifth of a call's start)."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    return importlib.import_module(name)  # run as a script: its folder is on sys.path


COMPUTE = "https://www.googleapis.com/compute/v1/projects"
#: Enabled in every new project (Service Usage "default" services).
DEFAULT_SERVICES = [
    "bigquery.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
]
#: Service names `gcloud services enable` accepts here, each as Google's documentation of the
#: service spells it in its "enable the API" step: Vertex AI (aiplatform), Artifact Registry,
#: Cloud Build, Cloud Run functions (cloudfunctions), Cloud Scheduler, Compute Engine,
#: Dataproc, Serverless for Apache Spark "Spark runtime version 3.0 components"
#: (dataprocrm.googleapis.com, also the service of the roles/dataprocrm.* roles and of its audit
#: logs), IAM, IAM Service Account Credentials (iamcredentials), Pub/Sub, Cloud Run, Secret
#: Manager, Security Token Service (sts, Workload Identity Federation). Any other name is
#: refused, and one unknown name fails the whole call (gcloud enables none of them).
KNOWN_SERVICES = {
    *DEFAULT_SERVICES,
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "dataproc.googleapis.com",
    "dataprocrm.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "sts.googleapis.com",
}
#: Which API a command group needs enabled in the resource's project.
GROUP_API = {
    "iam": "iam.googleapis.com",
    "compute": "compute.googleapis.com",
    "functions": "cloudfunctions.googleapis.com",
    "artifacts": "artifactregistry.googleapis.com",
    "pubsub": "pubsub.googleapis.com",
    "run": "run.googleapis.com",
    "storage": "storage.googleapis.com",
    "secrets": "secretmanager.googleapis.com",
}
#: Roles IAM refuses in a conditional binding ("Overview of IAM Conditions": not with basic roles).
BASIC_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
CUSTOM_ROLE_ID = re.compile(r"^[a-zA-Z0-9_.]{3,64}$")
ROLE_STAGES = {"ALPHA", "BETA", "GA", "DEPRECATED", "DISABLED", "EAP"}
#: Roles each kind of resource accepts in its policy.
ROLES = {
    "project": {
        "roles/aiplatform.user",
        "roles/artifactregistry.reader",
        "roles/bigquery.jobUser",
        "roles/cloudbuild.builds.viewer",
        "roles/cloudscheduler.admin",
        "roles/cloudscheduler.viewer",
        "roles/dataproc.editor",
        "roles/dataproc.serverlessEditor",
        "roles/dataproc.worker",
        "roles/editor",
        "roles/logging.logWriter",
        "roles/owner",
        "roles/run.invoker",
        "roles/storage.objectAdmin",
        "roles/storage.objectUser",
        "roles/storage.objectViewer",
    },
    "account": {
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.workloadIdentityUser",
    },
    "bucket": {
        "roles/storage.objectViewer",
        "roles/storage.objectUser",
        "roles/storage.objectCreator",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
    },
    "repository": {
        "roles/artifactregistry.reader",
        "roles/artifactregistry.writer",
        "roles/artifactregistry.repoAdmin",
    },
    "service": {"roles/run.invoker", "roles/run.developer"},
    "secret": {
        "roles/secretmanager.secretAccessor",
        "roles/secretmanager.viewer",
        "roles/secretmanager.admin",
    },
    "topic": {
        "roles/pubsub.publisher",
        "roles/pubsub.subscriber",
        "roles/pubsub.viewer",
        "roles/pubsub.editor",
        "roles/pubsub.admin",
    },
}
MEMBER = re.compile(
    r"^(?:(?:serviceAccount|user|group|domain):\S+"
    r"|principal(?:Set)?://iam\.googleapis\.com/projects/\d+/locations/global/"
    r"workloadIdentityPools/[a-z0-9-]+/\S+)$"
)
ACCOUNT_EMAIL = re.compile(
    r"^([a-z][a-z0-9-]{4,28}[a-z0-9])@([a-z0-9-]+)\.iam\.gserviceaccount\.com$"
)
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
RESOURCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
#: Pub/Sub's topic id rule: 3-255 characters, starts with a letter, not with "goog".
TOPIC_ID = re.compile(r"^(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")


class GcloudCallError(Exception):
    """A gcloud error: message and exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse that reports like gcloud (exit 2, `ERROR: (gcloud.x) ...`)."""

    def error(self, message: str) -> NoReturn:
        raise GcloudCallError(message, 2)


def _policy_read(lookup: str) -> Callable[[Fake, argparse.Namespace], Any]:
    """The get-iam-policy handler of the resources `Fake.<lookup>` finds."""

    def read(fake: Fake, a: argparse.Namespace) -> Any:
        return getattr(fake, lookup)(a)["policy"]

    return read


def _policy_add(lookup: str, kind: str) -> Callable[[Fake, argparse.Namespace], Any]:
    """The add-iam-policy-binding handler of the resources `Fake.<lookup>` finds, whose policy
    takes the roles ROLES[kind] names and no condition."""

    def add(fake: Fake, a: argparse.Namespace) -> Any:
        policy = getattr(fake, lookup)(a)["policy"]
        fake.add_binding(policy, kind, a.member, a.role)
        return policy

    return add


class StateFolder:
    """The fake cloud's folder (FAKE_GCLOUD_STATE), shared by the fake gcloud and the fake bq:
    `state.json`, read when a call starts and written back after a change, and `log.jsonl`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state: dict[str, Any] = json.loads((root / "state.json").read_text())

    def save(self) -> None:
        """Write the state back (only after a successful change)."""
        (self.root / "state.json").write_text(json.dumps(self.state, indent=1, sort_keys=True))


def record(root: Path, call: dict[str, Any]) -> None:
    """Append one call (its arguments and exit code) to the folder's log."""
    with (root / "log.jsonl").open("a") as log:
        log.write(json.dumps(call) + "\n")


class Fake(StateFolder):
    """State of the fake cloud and one handler per supported command."""

    # ---- helpers -------------------------------------------------------------------------
    def project(self, project_id: str | None) -> dict[str, Any]:
        if not project_id:
            raise GcloudCallError("The required property [project] is not currently set.")
        projects = self.state["projects"]
        if project_id not in projects:
            raise GcloudCallError(
                f"PERMISSION_DENIED: Project '{project_id}' not found or permission denied."
            )
        return projects[project_id]

    def need_api(self, project_id: str, group: str) -> None:
        api = GROUP_API.get(group)
        if api and api not in self.project(project_id)["services"]:
            raise GcloudCallError(
                f"PERMISSION_DENIED: {api} has not been used in project {project_id} before "
                "or it is disabled. Enable it and retry."
            )

    def check_member(self, member: str) -> None:
        if not MEMBER.match(member):
            raise GcloudCallError(f"INVALID_ARGUMENT: Invalid member '{member}'.")
        kind, _, email = member.partition(":")
        match = ACCOUNT_EMAIL.match(email)
        projects = self.state["projects"]
        if (
            kind == "serviceAccount"
            and match
            and match.group(2) in projects
            and email not in projects[match.group(2)]["accounts"]
        ):
            raise GcloudCallError(f"INVALID_ARGUMENT: Service account {email} does not exist.")
        if kind == "serviceAccount" and match and match.group(2) in projects:
            account = projects[match.group(2)]["accounts"][email]
            if account.get("unseen", 0) > 0:
                account["unseen"] -= 1
                self.save()  # the countdown persists although this call fails
                raise GcloudCallError(f"INVALID_ARGUMENT: Service account {email} does not exist.")

    def add_binding(
        self,
        policy: dict[str, Any],
        kind: str,
        member: str,
        role: str,
        condition: dict[str, str] | None = None,
        project: str = "",
    ) -> None:
        self.check_member(member)
        self.check_role(kind, role, project)
        if condition and role in BASIC_ROLES:
            raise GcloudCallError(
                f"INVALID_ARGUMENT: Conditions are not supported for basic role {role}."
            )
        for binding in policy.setdefault("bindings", []):
            if binding["role"] == role and binding.get("condition") == condition:
                if member not in binding["members"]:
                    binding["members"].append(member)
                    binding["members"].sort()
                break
        else:
            binding = {"role": role, "members": [member]}
            if condition:
                binding["condition"] = condition
            policy["bindings"].append(binding)
        policy["bindings"].sort(key=lambda b: (b["role"], json.dumps(b.get("condition"))))
        if any(b.get("condition") for b in policy["bindings"]):
            policy["version"] = 3
        policy["etag"] = f"BwY{len(json.dumps(policy)):05d}="

    def check_role(self, kind: str, role: str, project: str) -> None:
        """Predefined roles the resource takes; on a project also its own custom roles."""
        custom = re.match(r"^projects/([^/]+)/roles/([^/]+)$", role)
        if kind == "project" and custom and custom.group(1) == project:
            found = self.project(project).setdefault("roles", {}).get(custom.group(2))
            if found is None or found.get("deleted"):
                raise GcloudCallError(
                    f"INVALID_ARGUMENT: Role ({role}) does not exist in the resource's hierarchy."
                )
            return
        if role not in ROLES[kind]:
            raise GcloudCallError(
                f"INVALID_ARGUMENT: Role {role} is not supported for this resource."
            )

    @staticmethod
    def policy_condition(policy: dict[str, Any], flag: str | None) -> dict[str, str] | None:
        """The binding's condition from --condition; refused as gcloud does without it on a
        policy that holds conditions (non-interactive mode)."""
        conditional = any(b.get("condition") for b in policy.get("bindings", []))
        if flag is None:
            if conditional:
                raise GcloudCallError(
                    "Adding a binding without specifying a condition to a policy containing "
                    "conditions is prohibited in non-interactive mode. Run the command again "
                    "with `--condition=None`"
                )
            return None
        return parse_condition(flag)

    # ---- services ------------------------------------------------------------------------
    def services_list(self, a: argparse.Namespace) -> Any:
        if not a.enabled:
            raise GcloudCallError("listing available services is not supported by this fake")
        return [
            {
                "config": {"name": s, "title": s.split(".")[0]},
                "name": f"projects/123456789/services/{s}",
                "state": "ENABLED",
            }
            for s in sorted(self.project(a.project)["services"])
        ]

    def services_enable(self, a: argparse.Namespace) -> Any:
        services = self.project(a.project)["services"]
        unknown = [s for s in a.service if s not in KNOWN_SERVICES]
        if unknown:
            raise GcloudCallError(
                "PERMISSION_DENIED: Not found or permission denied for service(s): "
                + ", ".join(unknown)
            )
        services[:] = sorted(set(services) | set(a.service))
        return None

    # ---- IAM -----------------------------------------------------------------------------
    def account(self, a: argparse.Namespace) -> dict[str, Any]:
        self.need_api(a.project, "iam")
        accounts = self.project(a.project)["accounts"]
        return existing(accounts, a.account, f"NOT_FOUND: Unknown service account {a.account}")

    def sa_describe(self, a: argparse.Namespace) -> Any:
        found = self.account(a)
        return {"email": a.account, "displayName": found.get("displayName", "")}

    def sa_create(self, a: argparse.Namespace) -> Any:
        self.need_api(a.project, "iam")
        if not re.match(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", a.name):
            raise GcloudCallError(
                f"INVALID_ARGUMENT: '{a.name}' is not a valid service account id."
            )
        email = f"{a.name}@{a.project}.iam.gserviceaccount.com"
        accounts = self.project(a.project)["accounts"]
        if email in accounts:
            raise GcloudCallError(
                f"ALREADY_EXISTS: Service account {a.name} already exists within project."
            )
        accounts[email] = {
            # Bindings naming a new account fail this many times first (IAM propagation).
            "unseen": int(os.environ.get("FAKE_GCLOUD_IAM_DELAY", "0")),
            "displayName": a.display_name or "",
            "description": a.description or "",
            "policy": {"bindings": []},
        }
        return None

    sa_get_policy = _policy_read("account")
    sa_add_binding = _policy_add("account", "account")

    def project_get_policy(self, a: argparse.Namespace) -> Any:
        return self.project(a.project_id)["policy"]

    def project_add_binding(self, a: argparse.Namespace) -> Any:
        policy = self.project(a.project_id)["policy"]
        condition = self.policy_condition(policy, a.condition)
        self.add_binding(policy, "project", a.member, a.role, condition, a.project_id)
        return policy

    # ---- custom roles ----------------------------------------------------------------------
    def role_describe(self, a: argparse.Namespace) -> Any:
        if a.role.startswith("roles/") and not a.project:
            if a.role != "roles/dataproc.worker":
                raise GcloudCallError(
                    f"this fake knows the complete permission list of roles/dataproc.worker "
                    f"only, not of {a.role}",
                    2,
                )
            return {
                "name": a.role,
                "includedPermissions": sorted(_sibling("iam_roles").DATAPROC_WORKER),
                "stage": "GA",
                "title": "Dataproc Worker",
            }
        found = self.custom_role(a)
        return {"name": f"projects/{a.project}/roles/{a.role}", **found}

    def custom_role(self, a: argparse.Namespace) -> dict[str, Any]:
        self.need_api(a.project, "iam")
        roles = self.project(a.project).setdefault("roles", {})
        name = f"projects/{a.project}/roles/{a.role}"
        return existing(roles, a.role, f"NOT_FOUND: The role named {name} was not found.")

    def role_fields(self, a: argparse.Namespace) -> dict[str, Any]:
        permissions = [p for p in (a.permissions or "").split(",") if p]
        unknown = [p for p in permissions if p not in _sibling("iam_roles").KNOWN_PERMISSIONS]
        if unknown:
            raise GcloudCallError(f"INVALID_ARGUMENT: Permission {unknown[0]} is not valid.")
        if a.stage and a.stage not in ROLE_STAGES:
            raise GcloudCallError(f"argument --stage: Invalid choice: '{a.stage}'.", 2)
        if a.title and len(a.title) > 100:
            raise GcloudCallError("INVALID_ARGUMENT: The title is longer than 100 characters.")
        fields: dict[str, Any] = {}
        if a.permissions is not None:
            fields["includedPermissions"] = sorted(set(permissions))
        for key in ("title", "description", "stage"):
            if getattr(a, key) is not None:
                fields[key] = getattr(a, key)
        return fields

    def role_create(self, a: argparse.Namespace) -> Any:
        self.need_api(a.project, "iam")
        if not CUSTOM_ROLE_ID.match(a.role):
            raise GcloudCallError(f"INVALID_ARGUMENT: Invalid role id: {a.role}")
        roles = self.project(a.project).setdefault("roles", {})
        if a.role in roles:
            deleted = " (it was deleted: undelete it)" if roles[a.role].get("deleted") else ""
            raise GcloudCallError(
                f"ALREADY_EXISTS: A role named {a.role} in projects/{a.project} already "
                f"exists{deleted}."
            )
        fields = self.role_fields(a)
        if not fields.get("includedPermissions"):
            raise GcloudCallError("INVALID_ARGUMENT: A role needs at least one permission.")
        roles[a.role] = {"stage": "ALPHA", "deleted": False, **fields}
        return None

    def role_update(self, a: argparse.Namespace) -> Any:
        found = self.custom_role(a)
        if found.get("deleted"):
            raise GcloudCallError(
                f"FAILED_PRECONDITION: You can't update the deleted role {a.role}; undelete it."
            )
        found.update(self.role_fields(a))
        return None

    def role_undelete(self, a: argparse.Namespace) -> Any:
        found = self.custom_role(a)
        if not found.get("deleted"):
            raise GcloudCallError(f"FAILED_PRECONDITION: The role {a.role} is not deleted.")
        found["deleted"] = False
        return None

    # ---- Workload Identity Federation ------------------------------------------------------
    def wif_provider(self, a: argparse.Namespace) -> dict[str, Any]:
        if a.location != "global":
            raise GcloudCallError("argument --location: workload identity pools are global", 2)
        pool_id = a.workload_identity_pool
        pool = f"projects/{a.project}/locations/global/workloadIdentityPools/{pool_id}"
        found = self.state.get("workload_identity_pools", {}).get(pool)
        if found is None:
            raise GcloudCallError(f"NOT_FOUND: Requested entity was not found. ({pool})")
        provider = found["providers"].get(a.provider)
        if provider is None:
            raise GcloudCallError(
                f"NOT_FOUND: Requested entity was not found. ({pool}/providers/{a.provider})"
            )
        return provider

    def wif_describe(self, a: argparse.Namespace) -> Any:
        return self.wif_provider(a)

    def wif_update(self, a: argparse.Namespace) -> Any:
        """Only an attribute condition in CEL over the token's claims (`assertion.*`) or mapped
        attributes (`attribute.*`, `google.*`) is accepted, as Workload Identity requires."""
        provider = self.wif_provider(a)
        if a.attribute_condition is not None:
            iam_cel = _sibling("iam_cel")
            try:
                expression = iam_cel.parse(a.attribute_condition)
            except iam_cel.ConditionSyntaxError as err:
                raise GcloudCallError(f"INVALID_ARGUMENT: attribute condition: {err}") from None
            stray = [
                path
                for path in expression.attributes()
                if not path.startswith(("assertion.", "attribute.", "google."))
            ]
            if stray:
                raise GcloudCallError(
                    f"INVALID_ARGUMENT: The attribute condition references {stray[0]}, which "
                    "is not an assertion or attribute."
                )
            provider["attributeCondition"] = a.attribute_condition
        return None

    # ---- Secret Manager --------------------------------------------------------------------
    def secret(self, a: argparse.Namespace) -> dict[str, Any]:
        self.need_api(a.project, "secrets")
        secrets = self.project(a.project).setdefault("secrets", {})
        name = f"projects/{a.project}/secrets/{a.name}"
        return existing(
            secrets, a.name, f"NOT_FOUND: Secret [{name}] not found or has no versions."
        )

    def secret_describe(self, a: argparse.Namespace) -> Any:
        self.secret(a)
        return {"name": f"projects/{a.project}/secrets/{a.name}"}

    def secret_create(self, a: argparse.Namespace) -> Any:
        self.need_api(a.project, "secrets")
        if not re.match(r"^[A-Za-z0-9_-]{1,255}$", a.name):
            raise GcloudCallError(f"INVALID_ARGUMENT: Invalid secret id: {a.name}")
        if a.replication_policy not in ("automatic", "user-managed"):
            raise GcloudCallError("argument --replication-policy: Must be specified.", 2)
        secrets = self.project(a.project).setdefault("secrets", {})
        if a.name in secrets:
            raise GcloudCallError(
                f"ALREADY_EXISTS: Secret [projects/{a.project}/secrets/{a.name}] already exists."
            )
        secrets[a.name] = {"policy": {"bindings": []}, "versions": 0}
        return None

    secret_get_policy = _policy_read("secret")
    secret_add_binding = _policy_add("secret", "secret")

    # ---- storage -------------------------------------------------------------------------
    def bucket(self, url: str) -> dict[str, Any]:
        name = url.removeprefix("gs://").rstrip("/")
        if not url.startswith("gs://") or not BUCKET_NAME.match(name):
            raise GcloudCallError(f"Invalid bucket URL: {url}")
        found = self.state["buckets"].get(name)
        if found is None:
            raise GcloudCallError(f"{url} not found: 404.")
        if found["project"] not in self.state["projects"]:
            raise GcloudCallError(
                f"HTTPError 403: caller does not have storage.buckets.get access to the "
                f"Google Cloud Storage bucket {name}."
            )
        self.need_api(found["project"], "storage")
        return found

    def bucket_describe(self, a: argparse.Namespace) -> Any:
        found = self.bucket(a.url)
        name = a.url.removeprefix("gs://").rstrip("/")
        keys = ("location", "uniform_bucket_level_access", "public_access_prevention")
        return {"name": name, "storage_url": f"gs://{name}/", **{k: found[k] for k in keys}}

    def bucket_create(self, a: argparse.Namespace) -> Any:
        name = a.url.removeprefix("gs://").rstrip("/")
        if not a.url.startswith("gs://") or not BUCKET_NAME.match(name):
            raise GcloudCallError(f"Invalid bucket URL: {a.url}")
        self.need_api(a.project, "storage")
        self.project(a.project)
        if name in self.state["buckets"]:
            raise GcloudCallError(
                f"HTTPError 409: The requested bucket name is not available. The bucket "
                f"namespace is shared by all users of the system. ({name})"
            )
        self.state["buckets"][name] = {
            "project": a.project,
            "location": (a.location or "US").upper(),
            "uniform_bucket_level_access": bool(a.uniform_bucket_level_access),
            "public_access_prevention": "enforced" if a.public_access_prevention else "inherited",
            "policy": {"bindings": []},
        }
        return None

    def bucket_update(self, a: argparse.Namespace) -> Any:
        found = self.bucket(a.url)
        if a.uniform_bucket_level_access:
            found["uniform_bucket_level_access"] = True
        if a.public_access_prevention:
            found["public_access_prevention"] = "enforced"
        return None

    def bucket_get_policy(self, a: argparse.Namespace) -> Any:
        return self.bucket(a.url)["policy"]

    def bucket_add_binding(self, a: argparse.Namespace) -> Any:
        found = self.bucket(a.url)
        if not found["uniform_bucket_level_access"]:
            raise GcloudCallError(
                "HTTPError 400: bucket policy changes need uniform bucket-level access"
            )
        condition = self.policy_condition(found["policy"], a.condition)
        self.add_binding(found["policy"], "bucket", a.member, a.role, condition)
        return found["policy"]

    # ---- compute -------------------------------------------------------------------------
    def compute(self, project_id: str) -> dict[str, Any]:
        self.need_api(project_id, "compute")
        return self.project(project_id)

    def network_describe(self, a: argparse.Namespace) -> Any:
        networks = self.compute(a.project)["networks"]
        unfetched = _unfetched(a.project, f"global/networks/{a.name}", "was not found")
        return {"name": a.name, **existing(networks, a.name, unfetched)}

    def network_create(self, a: argparse.Namespace) -> Any:
        networks = self.compute(a.project)["networks"]
        if not RESOURCE_NAME.match(a.name):
            raise GcloudCallError(f"Invalid value for field 'resource.name': '{a.name}'.")
        absent(
            networks, a.name, _unfetched(a.project, f"global/networks/{a.name}", "already exists")
        )
        if a.subnet_mode not in ("custom", "auto"):
            raise GcloudCallError("--subnet-mode must be custom or auto", 2)
        networks[a.name] = {
            "selfLink": f"{COMPUTE}/{a.project}/global/networks/{a.name}",
            "x_gcloud_subnet_mode": a.subnet_mode.upper(),
        }
        return None

    def subnet_key(self, a: argparse.Namespace) -> str:
        if not a.region:
            raise GcloudCallError("argument --region: the region of the subnetwork is required", 2)
        return f"{a.region}/{a.name}"

    def subnet_describe(self, a: argparse.Namespace) -> Any:
        subnets = self.compute(a.project)["subnets"]
        path = f"regions/{a.region}/subnetworks/{a.name}"
        found = existing(subnets, self.subnet_key(a), _unfetched(a.project, path, "was not found"))
        return {"name": a.name, **found}

    def subnet_create(self, a: argparse.Namespace) -> Any:
        project = self.compute(a.project)
        key = self.subnet_key(a)
        if not RESOURCE_NAME.match(a.name):
            raise GcloudCallError(f"Invalid value for field 'resource.name': '{a.name}'.")
        if key in project["subnets"]:
            raise GcloudCallError(
                f"The resource 'projects/{a.project}/regions/{key}' already exists"
            )
        if a.network not in project["networks"]:
            raise GcloudCallError(
                f"The resource 'projects/{a.project}/global/networks/{a.network}' was not found"
            )
        try:
            cidr = ipaddress.ip_network(a.range, strict=True)
        except ValueError:
            raise GcloudCallError(f"Invalid IPCidrRange: {a.range}") from None
        if not cidr.is_private or cidr.prefixlen > 29:
            raise GcloudCallError(f"Invalid IPCidrRange: {a.range} (private, at most /29)")
        for other in project["subnets"].values():
            if other["network"].endswith(f"/{a.network}") and cidr.overlaps(
                ipaddress.ip_network(other["ipCidrRange"])
            ):
                raise GcloudCallError(
                    f"Invalid IPCidrRange: {a.range} conflicts with an existing subnetwork"
                )
        project["subnets"][key] = {
            "network": f"{COMPUTE}/{a.project}/global/networks/{a.network}",
            "ipCidrRange": str(cidr),
            "privateIpGoogleAccess": bool(a.enable_private_ip_google_access),
            "region": f"{COMPUTE}/{a.project}/regions/{a.region}",
        }
        return None

    def subnet_update(self, a: argparse.Namespace) -> Any:
        subnets = self.compute(a.project)["subnets"]
        key = self.subnet_key(a)
        subnet = existing(
            subnets, key, f"The resource 'projects/{a.project}/regions/{key}' was not found"
        )
        if a.enable_private_ip_google_access is not None:
            subnet["privateIpGoogleAccess"] = a.enable_private_ip_google_access
        return None

    def firewall_describe(self, a: argparse.Namespace) -> Any:
        rules = self.compute(a.project)["firewalls"]
        unfetched = _unfetched(a.project, f"global/firewalls/{a.name}", "was not found")
        return {"name": a.name, **existing(rules, a.name, unfetched)}

    def firewall_create(self, a: argparse.Namespace) -> Any:
        project = self.compute(a.project)
        if not RESOURCE_NAME.match(a.name):
            raise GcloudCallError(f"Invalid value for field 'resource.name': '{a.name}'.")
        if a.name in project["firewalls"]:
            raise GcloudCallError(
                f"The resource 'projects/{a.project}/global/firewalls/{a.name}' already exists"
            )
        network = a.network or "default"
        if network not in project["networks"]:
            raise GcloudCallError(
                f"The resource 'projects/{a.project}/global/networks/{network}' was not found"
            )
        if not a.rules:
            raise GcloudCallError("argument --rules: Must be specified.", 2)
        project["firewalls"][a.name] = {
            "network": f"{COMPUTE}/{a.project}/global/networks/{network}",
            "direction": (a.direction or "INGRESS").upper(),
            "priority": 1000,
            "allowed": _rules(a.rules),
            "sourceRanges": _ranges(a.source_ranges),
            "destinationRanges": _ranges(a.destination_ranges),
            "disabled": False,
        }
        return None

    def firewall_update(self, a: argparse.Namespace) -> Any:
        rules = self.compute(a.project)["firewalls"]
        rule = existing(
            rules,
            a.name,
            f"The resource 'projects/{a.project}/global/firewalls/{a.name}' was not found",
        )
        if a.rules:
            rule["allowed"] = _rules(a.rules)
        if a.source_ranges:
            rule["sourceRanges"] = _ranges(a.source_ranges)
        if a.destination_ranges:
            rule["destinationRanges"] = _ranges(a.destination_ranges)
        if a.disabled is not None:
            rule["disabled"] = a.disabled
        return None

    # ---- Artifact Registry, Cloud Run ----------------------------------------------------
    def repository(self, a: argparse.Namespace) -> dict[str, Any]:
        self.need_api(a.project, "artifacts")
        repos = self.project(a.project)["repositories"]
        return existing(
            repos, f"{a.location}/{a.name}", "NOT_FOUND: Requested entity was not found."
        )

    def repo_describe(self, a: argparse.Namespace) -> Any:
        found = self.repository(a)
        return {
            "name": f"projects/{a.project}/locations/{a.location}/repositories/{a.name}",
            "format": found["format"],
        }

    def repo_create(self, a: argparse.Namespace) -> Any:
        self.need_api(a.project, "artifacts")
        repos = self.project(a.project)["repositories"]
        if not a.location:
            raise GcloudCallError("argument --location: Must be specified.", 2)
        key = f"{a.location}/{a.name}"
        if key in repos:
            raise GcloudCallError(f"ALREADY_EXISTS: the repository already exists: {a.name}")
        if (a.repository_format or "").upper() not in ("DOCKER", "PYTHON", "KFP"):
            raise GcloudCallError("argument --repository-format: Must be specified.", 2)
        repos[key] = {"format": a.repository_format.upper(), "policy": {"bindings": []}}
        return None

    repo_get_policy = _policy_read("repository")
    repo_add_binding = _policy_add("repository", "repository")

    def service(self, a: argparse.Namespace) -> dict[str, Any]:
        self.need_api(a.project, "run")
        services = self.project(a.project)["run_services"]
        return existing(
            services,
            f"{a.region}/{a.name}",
            f"NOT_FOUND: Resource '{a.name}' of kind 'SERVICE' in region '{a.region}' "
            f"in project '{a.project}' does not exist.",
        )

    run_get_policy = _policy_read("service")
    run_add_binding = _policy_add("service", "service")

    def function_describe(self, a: argparse.Namespace) -> Any:
        """A deployed 2nd gen function as the Cloud Functions v2 API describes it."""
        self.need_api(a.project, "functions")
        if not a.region:
            raise GcloudCallError("argument --region: Must be specified.", 2)
        key = f"{a.region}/{a.name}"
        found = self.project(a.project).get("functions", {}).get(key)
        name = f"projects/{a.project}/locations/{a.region}/functions/{a.name}"
        if found is None:
            raise GcloudCallError(f"NOT_FOUND: Resource '{name}' was not found")
        config = {
            "service": f"projects/{a.project}/locations/{a.region}/services/{a.name}",
            "environmentVariables": dict(found.get("env", {})),
            # The Cloud Run service's own URL (ServiceConfig.uri, "URI of the Service deployed").
            "uri": run_url(a.name, self.project(a.project)["number"], a.region),
        }
        if found.get("service_account"):
            config["serviceAccountEmail"] = found["service_account"]
        return {
            "name": name,
            "environment": "GEN_2",
            "state": "ACTIVE",
            # Function.url: the cloudfunctions.net URL a 2nd gen function also answers on.
            "url": f"https://{a.region}-{a.project}.cloudfunctions.net/{a.name}",
            "serviceConfig": config,
        }

    def run_describe(self, a: argparse.Namespace) -> Any:
        """A Cloud Run service as `gcloud run services describe` prints it (Knative v1)."""
        found = self.service(a)
        annotations = {}
        if found.get("custom_audiences"):
            annotations["run.googleapis.com/custom-audiences"] = json.dumps(
                found["custom_audiences"]
            )
        return {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": a.name, "annotations": annotations},
            "status": {"url": run_url(a.name, self.project(a.project)["number"], a.region)},
        }

    # ---- Pub/Sub -------------------------------------------------------------------------
    def topic_key(self, a: argparse.Namespace) -> tuple[str, str]:
        """(project, topic id) from a topic id and --project, or from a full topic name."""
        project, name = a.project, a.topic
        match = re.match(r"^projects/([^/]+)/topics/([^/]+)$", a.topic)
        if match:
            project, name = match.groups()
        self.need_api(project, "pubsub")
        if not TOPIC_ID.match(name):
            raise GcloudCallError(
                f"INVALID_ARGUMENT: Invalid resource name given (name=projects/{project}/topics/"
                f"{name}). Refer to https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names"
            )
        return project, name

    def topic(self, a: argparse.Namespace) -> dict[str, Any]:
        project, name = self.topic_key(a)
        topics = self.project(project).setdefault("topics", {})
        return existing(topics, name, f"NOT_FOUND: Resource not found (resource={name}).")

    def topic_describe(self, a: argparse.Namespace) -> Any:
        project, name = self.topic_key(a)
        self.topic(a)
        return {"name": f"projects/{project}/topics/{name}"}

    def topic_create(self, a: argparse.Namespace) -> Any:
        project, name = self.topic_key(a)
        topics = self.project(project).setdefault("topics", {})
        if name in topics:
            raise GcloudCallError(
                f"ALREADY_EXISTS: Resource already exists in the project (resource={name})."
            )
        topics[name] = {"policy": {"bindings": []}}
        return None

    topic_get_policy = _policy_read("topic")
    topic_add_binding = _policy_add("topic", "topic")


def existing(store: dict[str, Any], key: str, not_found: str) -> Any:
    """`store[key]`; gcloud's error `not_found` when it is not there."""
    if key not in store:
        raise GcloudCallError(not_found)
    return store[key]


def absent(store: dict[str, Any], key: str, exists: str) -> None:
    """Refuse with gcloud's error `exists` to create what is already there."""
    if key in store:
        raise GcloudCallError(exists)


def _unfetched(project: str, path: str, why: str) -> str:
    """Compute's answer to a describe or create of `projects/PROJECT/PATH`."""
    return f"Could not fetch resource:\n - The resource 'projects/{project}/{path}' {why}"


def run_url(service: str, number: str, region: str) -> str:
    """A Cloud Run service URL in its deterministic form (SERVICE-NUMBER.REGION.run.app)."""
    return f"https://{service}-{number}.{region}.run.app"


def parse_condition(flag: str) -> dict[str, str] | None:
    """--condition as gcloud reads it: None, or KEY=VALUE items (`^D^` sets the delimiter)."""
    if flag == "None":
        return None
    delimiter = ","
    match = re.match(r"^\^(.)\^", flag)
    if match:
        delimiter, flag = match.group(1), flag[match.end() :]
    fields: dict[str, str] = {}
    for item in flag.split(delimiter):
        key, sep, value = item.partition("=")
        if not sep or key not in ("expression", "title", "description"):
            raise GcloudCallError(f"argument --condition: bad item {item!r}", 2)
        fields[key] = value
    if not fields.get("expression") or not fields.get("title"):
        raise GcloudCallError("argument --condition: expression and title are required", 2)
    iam_cel = _sibling("iam_cel")
    try:
        iam_cel.parse(fields["expression"])
    except iam_cel.ConditionSyntaxError as err:
        raise GcloudCallError(f"INVALID_ARGUMENT: Condition expression is invalid: {err}") from None
    return fields


def _rules(text: str) -> list[dict[str, Any]]:
    if text == "all":
        return [{"IPProtocol": "all"}]
    out = []
    for part in text.split(","):
        proto, _, ports = part.partition(":")
        out.append({"IPProtocol": proto, **({"ports": [ports]} if ports else {})})
    return out


def _ranges(text: str | None) -> list[str]:
    if not text:
        return []
    out = []
    for item in text.split(","):
        try:
            out.append(str(ipaddress.ip_network(item, strict=True)))
        except ValueError:
            raise GcloudCallError(
                f"Invalid value for field 'resource.sourceRanges': '{item}'"
            ) from None
    return out


# ---- command table: path -> (handler name, reads only, argument builder) -------------------
Build = Callable[[Parser], None]


def _flags(*names: str, flag: tuple[str, ...] = (), negatable: tuple[str, ...] = ()) -> Build:
    def build(p: Parser) -> None:
        for name in names:
            p.add_argument(f"--{name}")
        for name in flag:
            p.add_argument(f"--{name}", action="store_true")
        for name in negatable:
            p.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None)

    return build


def _with(positional: str, build: Build, nargs: str | None = None) -> Build:
    def both(p: Parser) -> None:
        if nargs:
            p.add_argument(positional, nargs=nargs)
        else:
            p.add_argument(positional)
        build(p)

    return both


_BINDING = ("member", "role")
COMMANDS: dict[tuple[str, ...], tuple[str, bool, Build]] = {
    ("services", "list"): ("services_list", True, _flags("project", "format", flag=("enabled",))),
    ("services", "enable"): ("services_enable", False, _with("service", _flags("project"), "+")),
    ("iam", "service-accounts", "describe"): (
        "sa_describe", True, _with("account", _flags("project", "format")),
    ),
    ("iam", "service-accounts", "create"): (
        "sa_create", False,
        _with("name", _flags("project", "display-name", "description")),
    ),
    ("iam", "service-accounts", "get-iam-policy"): (
        "sa_get_policy", True, _with("account", _flags("project", "format")),
    ),
    ("iam", "service-accounts", "add-iam-policy-binding"): (
        "sa_add_binding", False, _with("account", _flags("project", *_BINDING)),
    ),
    ("projects", "get-iam-policy"): (
        "project_get_policy", True, _with("project_id", _flags("format")),
    ),
    ("projects", "add-iam-policy-binding"): (
        "project_add_binding", False, _with("project_id", _flags("condition", *_BINDING)),
    ),
    ("storage", "buckets", "describe"): ("bucket_describe", True, _with("url", _flags("format"))),
    ("storage", "buckets", "create"): (
        "bucket_create", False,
        _with("url", _flags("project", "location",
                            flag=("uniform-bucket-level-access", "public-access-prevention"))),
    ),
    ("storage", "buckets", "update"): (
        "bucket_update", False,
        _with("url", _flags(flag=("uniform-bucket-level-access", "public-access-prevention"))),
    ),
    ("storage", "buckets", "get-iam-policy"): (
        "bucket_get_policy", True, _with("url", _flags("format")),
    ),
    ("storage", "buckets", "add-iam-policy-binding"): (
        "bucket_add_binding", False, _with("url", _flags("condition", *_BINDING)),
    ),
    ("iam", "roles", "describe"): (
        "role_describe", True, _with("role", _flags("project", "format")),
    ),
    ("iam", "roles", "create"): (
        "role_create", False,
        _with("role", _flags("project", "title", "description", "permissions", "stage")),
    ),
    ("iam", "roles", "update"): (
        "role_update", False,
        _with("role", _flags("project", "title", "description", "permissions", "stage")),
    ),
    ("iam", "roles", "undelete"): ("role_undelete", False, _with("role", _flags("project"))),
    ("iam", "workload-identity-pools", "providers", "describe"): (
        "wif_describe", True,
        _with("provider", _flags("project", "location", "workload-identity-pool", "format")),
    ),
    ("iam", "workload-identity-pools", "providers", "update-oidc"): (
        "wif_update", False,
        _with("provider", _flags("project", "location", "workload-identity-pool",
                                 "attribute-condition")),
    ),
    ("secrets", "describe"): ("secret_describe", True, _with("name", _flags("project", "format"))),
    ("secrets", "create"): (
        "secret_create", False, _with("name", _flags("project", "replication-policy")),
    ),
    ("secrets", "get-iam-policy"): (
        "secret_get_policy", True, _with("name", _flags("project", "format")),
    ),
    ("secrets", "add-iam-policy-binding"): (
        "secret_add_binding", False, _with("name", _flags("project", *_BINDING)),
    ),
    ("compute", "networks", "describe"): (
        "network_describe", True, _with("name", _flags("project", "format")),
    ),
    ("compute", "networks", "create"): (
        "network_create", False, _with("name", _flags("project", "subnet-mode")),
    ),
    ("compute", "networks", "subnets", "describe"): (
        "subnet_describe", True, _with("name", _flags("project", "region", "format")),
    ),
    ("compute", "networks", "subnets", "create"): (
        "subnet_create", False,
        _with("name", _flags("project", "region", "network", "range",
                             flag=("enable-private-ip-google-access",))),
    ),
    ("compute", "networks", "subnets", "update"): (
        "subnet_update", False,
        _with("name", _flags("project", "region",
                             negatable=("enable-private-ip-google-access",))),
    ),
    ("compute", "firewall-rules", "describe"): (
        "firewall_describe", True, _with("name", _flags("project", "format")),
    ),
    ("compute", "firewall-rules", "create"): (
        "firewall_create", False,
        _with("name", _flags("project", "network", "direction", "action", "rules",
                             "source-ranges", "destination-ranges")),
    ),
    ("compute", "firewall-rules", "update"): (
        "firewall_update", False,
        _with("name", _flags("project", "rules", "source-ranges", "destination-ranges",
                             negatable=("disabled",))),
    ),
    ("artifacts", "repositories", "describe"): (
        "repo_describe", True, _with("name", _flags("project", "location", "format")),
    ),
    ("artifacts", "repositories", "create"): (
        "repo_create", False,
        _with("name", _flags("project", "location", "repository-format", "description")),
    ),
    ("artifacts", "repositories", "get-iam-policy"): (
        "repo_get_policy", True, _with("name", _flags("project", "location", "format")),
    ),
    ("artifacts", "repositories", "add-iam-policy-binding"): (
        "repo_add_binding", False, _with("name", _flags("project", "location", *_BINDING)),
    ),
    ("run", "services", "describe"): (
        "run_describe", True, _with("name", _flags("project", "region", "format")),
    ),
    ("run", "services", "get-iam-policy"): (
        "run_get_policy", True, _with("name", _flags("project", "region", "format")),
    ),
    ("run", "services", "add-iam-policy-binding"): (
        "run_add_binding", False, _with("name", _flags("project", "region", *_BINDING)),
    ),
    ("functions", "describe"): (
        "function_describe", True, _with("name", _flags("project", "region", "format")),
    ),
    ("pubsub", "topics", "describe"): (
        "topic_describe", True, _with("topic", _flags("project", "format")),
    ),
    ("pubsub", "topics", "create"): ("topic_create", False, _with("topic", _flags("project"))),
    ("pubsub", "topics", "get-iam-policy"): (
        "topic_get_policy", True, _with("topic", _flags("project", "format")),
    ),
    ("pubsub", "topics", "add-iam-policy-binding"): (
        "topic_add_binding", False, _with("topic", _flags("project", *_BINDING)),
    ),
}  # fmt: skip


def main(argv: list[str]) -> int:
    """Run one fake gcloud invocation; returns its exit code."""
    root = Path(os.environ["FAKE_GCLOUD_STATE"])
    code = _dispatch(root, argv)
    record(root, {"argv": argv, "exit": code})
    return code


def _dispatch(root: Path, argv: list[str]) -> int:
    path: tuple[str, ...] = ()
    for token in argv:
        if token.startswith("-"):
            break
        path = (*path, token)
        if path in COMMANDS:
            break
    name = "gcloud." + ".".join(path)
    if path not in COMMANDS:
        print(f"ERROR: ({name}) Invalid choice: '{' '.join(argv[:3])}'.", file=sys.stderr)
        return 2
    handler, reads, build = COMMANDS[path]
    parser = Parser(prog=name, add_help=False)
    build(parser)
    try:
        args = parser.parse_args(argv[len(path) :])
        fmt = getattr(args, "format", None)
        if reads and fmt != "json":
            raise GcloudCallError("this fake answers looks only with --format=json", 2)
        fake = Fake(root)
        answer = getattr(fake, handler)(args)
        if not reads:
            fake.save()
            print(f"Updated {' '.join(path[:-1])}.", file=sys.stderr)
        elif answer is not None:
            print(json.dumps(answer, indent=2))
        return 0
    except GcloudCallError as err:
        print(f"ERROR: ({name}) {err}", file=sys.stderr)
        return err.code


def new_project(number: str = "123456789012") -> dict[str, Any]:
    """The state of a fresh project: default services only, nothing else."""
    return {
        "number": number,
        "services": list(DEFAULT_SERVICES),
        "policy": {"bindings": [{"role": "roles/owner", "members": ["user:admin@example.com"]}]},
        "accounts": {},
        "networks": {},
        "subnets": {},
        "firewalls": {},
        "repositories": {},
        "run_services": {},
        "functions": {},
        "datasets": {},
        "topics": {},
        "roles": {},
        "secrets": {},
    }


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main(sys.argv[1:]))
