"""Who may set which pipeline parameter (design.md, "Who owns what").

Four owners:

- the deployment: everything that decides what code runs, as whom, and where data lives. These
  parameters take their values from the environment file when `compile.py --publish --env ENV`
  writes that environment's templates (as the templates' defaults); a schedule file, an
  environment's `parameters`, or a request body that sets one is refused.
- a schedule (or a manual caller): model-level choices (classifier, gate, seed, ...) and data
  paths *relative to* the environment's own locations (`raw_data_path`, `customers_path`).
- the runtime: `fire_time`, set by the trigger from the fire it serves (RUNTIME_PARAMETERS).
- nobody else: there is no fourth way in.
"""

from __future__ import annotations

#: Set only from the environment file at publish time; refused from schedules and requests.
DEPLOYMENT_PARAMETERS = frozenset(
    {
        # what code runs
        "spark_code_uri",
        "runtime_version",
        "container_image",
        "spark_properties",
        # as whom, and on which network
        "service_account",
        "subnetwork_uri",
        "spark_history_cluster",
        # where data lives
        "data_uri",
        "models_uri",
        "predictions_uri",
        "bq_dataset",
        # where failure alerts go (the exit handler's Pub/Sub topic)
        "alerts_topic",
        # which environment a run belongs to (labels, folders, job ids), and its region
        "environment",
        "project",
        "region",
        # optional mirror into Vertex AI Model Registry (its serving container)
        "serving_image",
    }
)

#: Set by the trigger on every run from the fire time it serves (RFC 3339, UTC; a manual run:
#: the call time), so a run knows its slot; refused from schedules, environments and requests.
RUNTIME_PARAMETERS = frozenset({"fire_time"})

#: Parameters whose value is a path relative to a deployment-owned location.
RELATIVE_PATH_PARAMETERS = frozenset({"raw_data_path", "customers_path"})


def owner_of(name: str) -> str:
    """'deployment', 'runtime' or 'schedule': who sets the pipeline parameter `name`."""
    if name in DEPLOYMENT_PARAMETERS:
        return "deployment"
    return "runtime" if name in RUNTIME_PARAMETERS else "schedule"


def refusal(name: str) -> str | None:
    """Why a schedule file or request may not set `name`, or None when it may."""
    if name in DEPLOYMENT_PARAMETERS:
        return (
            f"'{name}' belongs to the deployment (code, identity, network and data locations "
            "come from the environment file when the templates are published); remove it"
        )
    if name in RUNTIME_PARAMETERS:
        return (
            f"'{name}' is set by the trigger from the fire time of each run; remove it (a string "
            "parameter may use {fire_date}, {fire_time} or {fire_stamp} instead)"
        )
    return None


_MAX_PATH = 1024


def check_relative_path(value: str) -> str | None:
    """Why `value` is not a safe path under an environment location, or None when it is.

    Safe: non-empty, no scheme, not absolute, no '.'/'..' or empty segments, no backslash or
    control characters, at most 1024 characters.
    """
    if not isinstance(value, str) or not value:
        return "must be a non-empty path relative to the environment's location"
    if len(value) > _MAX_PATH:
        return f"is longer than {_MAX_PATH} characters"
    if "://" in value or value.startswith("/"):
        return (
            "must be relative to the environment's location (no scheme, no leading '/'): "
            "the environment file decides which bucket is read"
        )
    if "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "must not contain backslashes or control characters"
    if any(part in ("", ".", "..") for part in value.split("/")):
        return "must not contain empty, '.' or '..' segments"
    return None


def join_location(base: str, relative: str) -> str:
    """`<base>/<relative>` after checking `relative`; ValueError naming the problem."""
    problem = check_relative_path(relative)
    if problem:
        raise ValueError(f"path {relative!r:.80} {problem}")
    if not base:
        raise ValueError("the environment's location is empty (publish with --env ENV)")
    return f"{base.rstrip('/')}/{relative}"
