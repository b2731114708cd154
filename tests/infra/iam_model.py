"""What an identity may do, computed from the fake cloud's IAM policies as IAM evaluates them.

A permission on a resource is granted when a binding on the resource or one of its ancestors
(object -> bucket -> project; service, topic, account, secret -> project) names the member and
a role holding the permission, and its condition, if any, grants for that resource. Roles are
predefined (fakes/iam_roles.py, from the IAM roles reference) or the project's custom
roles as the fake holds them. Resource attributes exist only where Google provides them: Cloud
Storage buckets and objects (`resource.service`, `resource.type`, `resource.name`,
"Resource attributes for IAM Conditions"); for Dataproc, Vertex AI, Cloud Run, Pub/Sub and IAM
resources they are unknown (fakes/iam_cel.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes import iam_cel, iam_roles

STORAGE = "storage.googleapis.com"
#: Storage permissions that change what an object holds, who may read it, or whether it exists.
OBJECT_WRITES = frozenset(
    {
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.update",
        "storage.objects.setIamPolicy",
        "storage.objects.setRetention",
        "storage.objects.overrideUnlockedRetention",
        "storage.objects.restore",
        "storage.objects.move",
    }
)


@dataclass(frozen=True)
class Resource:
    """A resource a permission is checked on: its policy holders and condition attributes."""

    label: str
    project: str
    policies: tuple[tuple[str, ...], ...]  # paths into the fake state, nearest first
    attributes: dict[str, str] = field(default_factory=dict)


def gcs_object(state: dict[str, Any], uri: str) -> Resource:
    """An object `gs://BUCKET/NAME` (it need not exist: creating it is checked the same way)."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    project = state["buckets"][bucket]["project"]
    return Resource(
        uri,
        project,
        (("buckets", bucket, "policy"), ("projects", project, "policy")),
        {
            "resource.service": STORAGE,
            "resource.type": f"{STORAGE}/Object",
            "resource.name": f"projects/_/buckets/{bucket}/objects/{name}",
        },
    )


def gcs_bucket(state: dict[str, Any], bucket: str) -> Resource:
    """A bucket (objects.list and buckets.* are checked on it)."""
    project = state["buckets"][bucket]["project"]
    return Resource(
        f"gs://{bucket}",
        project,
        (("buckets", bucket, "policy"), ("projects", project, "policy")),
        {
            "resource.service": STORAGE,
            "resource.type": f"{STORAGE}/Bucket",
            "resource.name": f"projects/_/buckets/{bucket}",
        },
    )


def project(project_id: str) -> Resource:
    """A project-scoped resource of a service without resource attributes (Dataproc agents,
    Vertex AI PipelineJobs, Cloud Scheduler jobs)."""
    return Resource(f"project {project_id}", project_id, (("projects", project_id, "policy"),))


def under_project(label: str, project_id: str, *path: str) -> Resource:
    """A resource with its own policy at `path` inside the project's state (a Cloud Run
    service, a topic, a service account, a secret)."""
    return Resource(
        label,
        project_id,
        (("projects", project_id, *path, "policy"), ("projects", project_id, "policy")),
    )


def role_permissions(state: dict[str, Any], role: str) -> frozenset[str]:
    """A role's permissions: predefined from the reference table, custom from the fake."""
    if role.startswith("projects/"):
        _, project_id, _, role_id = role.split("/")
        found = state["projects"][project_id].get("roles", {}).get(role_id)
        if not found or found.get("deleted"):
            return frozenset()
        return frozenset(found.get("includedPermissions", []))
    if role not in iam_roles.ROLES:
        raise KeyError(f"{role} is granted but not in fakes/iam_roles.py: copy it there")
    return iam_roles.ROLES[role]


def _policy(state: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node: Any = state
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def allowed(state: dict[str, Any], member: str, permission: str, resource: Resource) -> bool:
    """Whether `member` holds `permission` on `resource`."""
    for path in resource.policies:
        for binding in _policy(state, path).get("bindings", []):
            if member not in binding.get("members", []):
                continue
            if permission not in role_permissions(state, binding["role"]):
                continue
            condition = binding.get("condition")
            if not condition or iam_cel.parse(condition["expression"]).grants(resource.attributes):
                return True
    return False


def permissions(state: dict[str, Any], member: str, resource: Resource) -> set[str]:
    """Every permission of the reference table `member` holds on `resource`."""
    every = set(iam_roles.KNOWN_PERMISSIONS)
    for project_state in state["projects"].values():
        for role in project_state.get("roles", {}).values():
            every |= set(role.get("includedPermissions", []))
    return {p for p in every if allowed(state, member, p, resource)}
