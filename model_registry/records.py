"""The small JSON records the registry writes, and their strict readers. Pure logic.

A reader refuses anything the registry would not have written (wrong type, missing field,
names that disagree with the object's place), naming the object and the field, so a hand-edited
or truncated pointer stops a scoring run with a clear message instead of scoring a wrong model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from contract import outputs
from model_registry.errors import MalformedRecordError
from model_registry.layout import ALIAS, MODEL_NAME, VERSION

SCHEMA = 1


@dataclass(frozen=True)
class Move:
    """One alias move: the content of an alias pointer and of its history object."""

    model: str
    alias: str
    version: str
    previous: str
    moved_at: str
    moved_by: str
    reason: str
    move_id: str
    schema: int = SCHEMA

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Manifest:
    """The completion marker of a version: which objects it holds (relative path -> bytes).

    Stored as the output manifest every committed output has (contract/outputs.py), with the
    version's files directly in its folder (root ''), so a Spark job reads a version folder
    exactly as it reads a train/tune output; model, version and source are its labels.
    """

    model: str
    version: str
    created_at: str
    created_by: str
    source_uri: str
    files: dict[str, int] = field(default_factory=dict)
    schema: int = SCHEMA

    def to_output(self) -> outputs.Manifest:
        return outputs.Manifest(
            root="",
            files=dict(self.files),
            rows=None,
            writer=outputs.Writer(
                job="register",
                attempt=self.version,
                written_at=self.created_at,
                pipeline_job=self.created_by,
            ),
            labels={"model": self.model, "version": self.version, "source_uri": self.source_uri},
        )

    def to_json(self) -> bytes:
        return outputs.to_bytes(self.to_output())


def _load(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedRecordError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise MalformedRecordError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _text(value: dict[str, Any], key: str, where: str, pattern=None, empty_ok=False) -> str:
    text = value.get(key)
    if not isinstance(text, str) or (not text and not empty_ok):
        raise MalformedRecordError(f"{where}: field '{key}' is missing or not a string")
    if text and pattern is not None and not pattern.match(text):
        raise MalformedRecordError(f"{where}: field '{key}' has a malformed value {text!r}")
    return text


def parse_move(data: bytes, where: str, model: str, alias: str) -> Move:
    """The Move in a pointer or history object at `where`, checked against its place."""
    value = _load(data, where)
    move = Move(
        model=_text(value, "model", where, MODEL_NAME),
        alias=_text(value, "alias", where, ALIAS),
        version=_text(value, "version", where, VERSION),
        previous=_text(value, "previous", where, VERSION, empty_ok=True),
        moved_at=_text(value, "moved_at", where),
        moved_by=_text(value, "moved_by", where, empty_ok=True),
        reason=_text(value, "reason", where, empty_ok=True),
        move_id=_text(value, "move_id", where),
    )
    if (move.model, move.alias) != (model, alias):
        raise MalformedRecordError(
            f"{where}: names model '{move.model}' alias '{move.alias}', but it is the pointer "
            f"of '{model}@{alias}'"
        )
    return move


def parse_manifest(data: bytes, where: str, model: str, version: str) -> Manifest:
    """The Manifest at `where`, checked against the version folder it completes."""
    try:
        output = outputs.parse(data, where)
    except outputs.ManifestError as exc:
        raise MalformedRecordError(str(exc)) from None
    if output.root:
        raise MalformedRecordError(f"{where}: field 'root' must be '' (files in the folder)")
    labels = output.labels
    manifest = Manifest(
        model=_text(labels, "model", where, MODEL_NAME),
        version=_text(labels, "version", where, VERSION),
        created_at=output.writer.written_at,
        created_by=output.writer.pipeline_job,
        source_uri=labels.get("source_uri", ""),
        files=dict(output.files),
    )
    if (manifest.model, manifest.version) != (model, version):
        raise MalformedRecordError(
            f"{where}: names '{manifest.model}' version '{manifest.version}', but it completes "
            f"'{model}' version '{version}'"
        )
    return manifest


def parse_json_object(data: bytes, where: str) -> dict[str, Any]:
    """Any JSON object (metrics.json, model_meta.json), with a clear error otherwise."""
    return _load(data, where)
