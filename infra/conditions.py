"""IAM Conditions the setup attaches to role bindings (pure: builds the expressions).

Cloud Storage names its resources for conditions as `projects/_/buckets/BUCKET` and
`projects/_/buckets/BUCKET/objects/OBJECT`, and supports `resource.name.startsWith(...)` on
them ("Resource attributes for IAM Conditions", resource name format; Cloud Storage's "Use IAM
Conditions on buckets"). Dataproc, Cloud Monitoring and Vertex AI do not recognize resource
attributes, and a part of a condition that reads an unavailable attribute never grants ("Attribute
reference for IAM Conditions"): so a condition here only ever narrows Cloud Storage
permissions, and the permissions of other services come from unconditional bindings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """An IAM condition: title, CEL expression, description."""

    title: str
    expression: str
    description: str = ""

    def flag(self) -> str:
        """gcloud's --condition flag: KEY=VALUE items separated by commas, or, when a value
        holds a comma, by another delimiter announced as ^D^ (`gcloud topic escaping`)."""
        items = [("expression", self.expression), ("title", self.title)]
        if self.description:
            items.append(("description", self.description))
        text = "".join(value for _, value in items)
        delimiter = next(d for d in ",;|~#" if d not in text)
        joined = delimiter.join(f"{key}={value}" for key, value in items)
        return f"--condition={joined}" if delimiter == "," else f"--condition=^{delimiter}^{joined}"


def _quoted(text: str) -> str:
    if '"' in text or "\\" in text:
        raise ValueError(f"cannot quote {text!r} in a condition")
    return f'"{text}"'


def outside_bucket(bucket: str) -> Condition:
    """Cloud Storage permissions on every bucket and object but `bucket` and its objects."""
    name = f"projects/_/buckets/{bucket}"
    expression = (
        f'resource.service == "storage.googleapis.com" && !(resource.name == {_quoted(name)} '
        f"|| resource.name.startsWith({_quoted(name + '/')}))"
    )
    return Condition(
        "storage-outside-templates",
        expression,
        f"Cloud Storage outside gs://{bucket} (templates and Spark code: deploy account only)",
    )


def under_prefix(bucket: str, prefix: str) -> Condition:
    """Objects of `bucket` whose names start with `prefix` (a folder: ends with '/')."""
    folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
    start = f"projects/_/buckets/{bucket}/objects/{folder}"
    return Condition(
        "trigger-leases-only",
        f"resource.name.startsWith({_quoted(start)})",
        f"only objects under gs://{bucket}/{folder} (the trigger concurrency leases)",
    )
