"""Names and keys of the registry layout, model references and version ids. Pure logic."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from model_registry.errors import RegistryError

DEFAULT_ALIAS = "champion"
MANIFEST = "manifest.json"  # contract.outputs.MANIFEST: a version is a committed output too
METRICS = "metrics.json"
META = "model_meta.json"
MODEL_DIR = "model"

#: What a version takes from the train/tune output it registers, as that output's manifest
#: lists it ('model/' = every listed file under it): copied as they are. model_meta.json is
#: rewritten with the lineage; the version's manifest is its own. A new file of a version is
#: one more entry here (and in REQUIRED when an output without it cannot be registered).
COPIED = (f"{MODEL_DIR}/", METRICS)
REQUIRED = (f"{MODEL_DIR}/", METRICS, META)
#: Folders of a version that a loader reads whole (PipelineModel.load): nothing unlisted there.
EXACT = (f"{MODEL_DIR}/",)


def copied(rel: str) -> bool:
    """Whether register copies the listed file `rel` of a train/tune output into the version."""
    return any(rel.startswith(p) if p.endswith("/") else rel == p for p in COPIED)


MODEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
#: v<UTC date>t<UTC time>z-<run token>: sorts by creation time, unique per run.
VERSION = re.compile(r"^v[0-9]{8}t[0-9]{6}z-[a-z0-9]{1,16}$")
ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")

#: The local registry `run.py` and `models.py` use when no registry is named: runs/models.
REPO_ROOT = Path(__file__).resolve().parents[1]


def default_local_registry() -> str:
    """The local default registry as a file:// URI (`runs/models` under the repository)."""
    return (REPO_ROOT / "runs" / "models").as_uri()


def check_model_name(name: str, where: str = "model name") -> str:
    """`name` when it is a valid model name, else a RegistryError naming `where`."""
    if not MODEL_NAME.match(name or ""):
        raise RegistryError(
            f"{where}: {name!r} is not a model name (lowercase letters, digits and '-', "
            "starting with a letter, at most 40 characters)"
        )
    return name


def check_version(version: str, where: str = "version") -> str:
    """`version` when it is a well-formed version id, else a RegistryError naming `where`."""
    if not VERSION.match(version or ""):
        raise RegistryError(
            f"{where}: {version!r} is not a version id (like v20261130t020000z-1a2b3c4d)"
        )
    return version


def check_alias(alias: str, where: str = "alias") -> str:
    """`alias` when it is a valid alias name (and cannot be mistaken for a version)."""
    if not ALIAS.match(alias or "") or VERSION.match(alias):
        raise RegistryError(
            f"{where}: {alias!r} is not an alias name (lowercase letters, digits, '_' and '-', "
            "starting with a letter)"
        )
    return alias


@dataclass(frozen=True)
class ModelRef:
    """`name@alias` or `name@version`: what a scoring run asks for."""

    model: str
    alias: str = ""
    version: str = ""

    def __str__(self) -> str:
        return f"{self.model}@{self.alias or self.version}"


def parse_ref(text: str, where: str = "model") -> ModelRef:
    """Parse `churn@champion`, `churn@v20261130t020000z-1a2b3c4d` or `churn` (= champion)."""
    name, _, target = (text or "").strip().partition("@")
    check_model_name(name, f"{where} {text!r}")
    if not target:
        return ModelRef(name, alias=DEFAULT_ALIAS)
    if VERSION.match(target):
        return ModelRef(name, version=target)
    check_alias(target, f"{where} {text!r}")
    return ModelRef(name, alias=target)


def run_token(pipeline_job: str) -> str:
    """8 hex characters identifying a run (hash of its pipeline job name)."""
    return hashlib.sha256(pipeline_job.encode("utf-8")).hexdigest()[:8]


def new_version_id(when: datetime, pipeline_job: str) -> str:
    """The version id of the model a run registers at `when`."""
    return f"v{when.astimezone(UTC):%Y%m%dt%H%M%Sz}-{run_token(pipeline_job)}"


def time_stamp(when: datetime) -> str:
    """A UTC time with microseconds, sortable as text (history object names)."""
    return when.astimezone(UTC).strftime("%Y%m%dt%H%M%S%fz")


def version_prefix(model: str, version: str) -> str:
    return f"{model}/versions/{version}/"


def versions_prefix(model: str) -> str:
    return f"{model}/versions/"


def alias_key(model: str, alias: str) -> str:
    return f"{model}/aliases/{alias}.json"


def aliases_prefix(model: str) -> str:
    return f"{model}/aliases/"


def history_prefix(model: str, alias: str) -> str:
    return f"{model}/history/{alias}/"


def history_key(model: str, alias: str, when: datetime, move_id: str) -> str:
    return f"{history_prefix(model, alias)}{time_stamp(when)}-{move_id}.json"


def join_uri(root: str, key: str) -> str:
    """`root` + '/' + `key`, whatever the scheme."""
    return f"{root.rstrip('/')}/{key}"
