# Copied from contract/naming.py by `python -m contract.vendor`; edit the original.
"""Every name the project derives: PipelineJob ids, labels, run labels, schedule keys, version tags.

One function per name, used by the trigger (job ids and labels of a fire), `schedule.py`
(collision checks, finding a schedule's runs) and the pipeline steps (run labels on Dataproc
batches). Pure logic, standard library only.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

#: Vertex AI PipelineJob ids: [a-z][-a-z0-9]*, "less than 128 characters" (API reference).
JOB_ID_MAX = 127
#: Google Cloud label values: [a-z0-9_-], at most 63 characters.
LABEL_MAX = 63
#: A published version tag: one path segment, what `compile.py --publish --version` accepts,
#: what a schedule's `template:` and the trigger's `template` may name. No '+': a tag must be
#: publishable and usable in a URI path without escaping. No '..' anywhere: a tag is a folder of
#: the template base, and `a..b` reads like a path trick (and like a range in git).
VERSION_TAG = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: The rule above in words, for every message that refuses a tag.
VERSION_TAG_RULE = (
    "letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit, "
    "no '..', and not 'latest'"
)
#: The pointer to the newest published version; never itself a version tag.
LATEST = "latest"
#: A pipeline's name, as KFP requires it (kfp.dsl.utils.validate_pipeline_name:
#: ^[a-z0-9][a-z0-9-]{0,127}$): what `pipelineInfo.name` and `<version>/templates/<name>.yaml`
#: carry, what a schedule's `pipeline:` and the trigger's `pipeline` name. Case-sensitive.
PIPELINE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")


def slug(text: str, allowed: str = "a-z0-9") -> str:
    """`text` lowercased, runs of characters outside `allowed` folded into one '-'."""
    out = re.sub(f"[^{allowed}]+", "-", text.lower())
    return re.sub("-{2,}", "-", out).strip("-")


def short_hash(text: str) -> str:
    """8 hex characters of SHA-256: enough to keep cut names apart."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def fit(name: str, original: str, limit: int) -> str:
    """`name` cut to `limit` characters; when cut, its tail is a hash of `original`."""
    if len(name) <= limit:
        return name
    return name[: limit - 9].rstrip("-_") + "-" + short_hash(original)


def label_value(text: str) -> str:
    """`text` as a valid label value ([a-z0-9_-], at most 63), unique by hash when cut."""
    return fit(slug(text, "a-z0-9_"), text, LABEL_MAX)


def schedule_key(name: str) -> str:
    """What a schedule name becomes in job ids and labels; two schedules with one key collide."""
    return slug(name, "a-z0-9")


def fire_stamp(fire_time: datetime) -> str:
    """A fire time as it appears in job ids and labels: 20261130t020000z (UTC)."""
    return fire_time.astimezone(UTC).strftime("%Y%m%dt%H%M%Sz")


def job_id(environment: str, schedule: str, fire_time: datetime) -> str:
    """The PipelineJob id of one scheduled fire: `<env>-<schedule>-<fire stamp>`, deterministic.

    The same environment, schedule and fire time always give the same id, so a redelivered fire
    finds ALREADY_EXISTS; two environments never share an id.
    """
    return _job_id(environment, schedule, "-" + fire_stamp(fire_time))


def manual_job_id(environment: str, name: str, now: datetime, token: str) -> str:
    """The id of a manual run: `<env>-<name>-manual-<now>-<token>` (two never collide)."""
    return _job_id(environment, name, f"-manual-{fire_stamp(now)}-{token}")


def _job_id(environment: str, name: str, suffix: str) -> str:
    env = slug(environment) or "env"
    base = f"{env}-{schedule_key(name) or 'run'}"
    if not base[0].isalpha():
        base = f"r-{base}"
    return fit(base, f"{environment}/{name}", JOB_ID_MAX - len(suffix)) + suffix


def run_label(pipeline_job: str) -> str:
    """The label that ties a run's Dataproc batches and folders to its PipelineJob."""
    return label_value(pipeline_job) or "unknown"


def is_version_tag(text: str) -> bool:
    """Whether `text` can be published as a version (and so named by a schedule or a call)."""
    return isinstance(text, str) and bool(VERSION_TAG.fullmatch(text)) and text != LATEST


def is_pipeline_name(text: str) -> bool:
    """Whether `text` can be a pipeline's name (lower case: `Churn-Training` is not one)."""
    return isinstance(text, str) and bool(PIPELINE_NAME.fullmatch(text))


def job_labels(
    environment: str,
    pipeline: str,
    template_version: str,
    schedule: str | None,
    fire_time: datetime | None,
) -> dict[str, str]:
    """The labels every PipelineJob the trigger creates carries.

    `environment` + `schedule` find a schedule's runs (`schedule.py status`, max_concurrent_runs);
    `fire-time` says which fire a run belongs to; `trigger` tells scheduled runs from manual ones.
    """
    labels = {
        "environment": label_value(environment),
        "pipeline": label_value(pipeline),
        "template-version": label_value(template_version),
        "trigger": "scheduler" if fire_time is not None else "manual",
    }
    if schedule:
        labels["schedule"] = schedule_label(schedule)
    if fire_time is not None:
        labels["fire-time"] = fire_stamp(fire_time)
    return labels


def schedule_label(schedule: str) -> str:
    """The `schedule` label value of a schedule's runs: its key, cut with a hash when long."""
    return fit(schedule_key(schedule), schedule, LABEL_MAX) or "unnamed"
