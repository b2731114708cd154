"""Registry operations: register a version, read versions and aliases, promote, roll back."""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contract import outputs
from model_registry import layout
from model_registry.committed import CommittedOutput, listing, open_committed
from model_registry.errors import ConflictError, DamagedVersionError, NotFoundError, RegistryError
from model_registry.records import (
    Manifest,
    Move,
    parse_json_object,
    parse_manifest,
    parse_move,
)
from model_registry.store import ABSENT, Store, open_store

#: Scalar metrics shown by `models.py list` and put on the Model artifact.
KEY_METRICS = ("auc_pr", "auc_roc", "f1", "accuracy", "log_loss")


@dataclass(frozen=True)
class VersionInfo:
    """A complete version: where it is, its manifest, metrics and lineage."""

    model: str
    version: str
    uri: str
    manifest: Manifest
    metrics: dict[str, Any]
    meta: dict[str, Any]

    def key_metrics(self) -> dict[str, float]:
        return {k: self.metrics[k] for k in KEY_METRICS if isinstance(self.metrics.get(k), float)}


@dataclass(frozen=True)
class AliasState:
    """An alias pointer as read, with the generation a move must name to replace it."""

    move: Move | None
    generation: str

    @property
    def version(self) -> str:
        return self.move.version if self.move else ""


@dataclass(frozen=True)
class Resolved:
    """What a model reference resolved to."""

    model: str
    version: str
    uri: str
    alias: str = ""


def who() -> str:
    """Who a manual registry action is recorded as: user@host."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def feature_schema_hash(meta: dict[str, Any]) -> str:
    """SHA-256 of the input columns a model expects (name and type), order included."""
    columns = meta.get("input_columns") or []
    return hashlib.sha256(json.dumps(columns, sort_keys=True).encode("utf-8")).hexdigest()


class Registry:
    """The registry under one root (`models_uri`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def uri(self) -> str:
        return self.store.root

    # --- versions --------------------------------------------------------------------------

    def register(
        self,
        model: str,
        source_uri: str,
        *,
        pipeline_job: str,
        lineage: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> VersionInfo:
        """Copy a train/tune output folder into a new immutable version; returns it.

        Idempotent per pipeline job: a retried step finds the complete version its run already
        registered and returns it instead of writing a second one.
        """
        layout.check_model_name(model, "model_name")
        if pipeline_job:
            # A version id ends with its run's token, so only those few versions are read.
            token = "-" + layout.run_token(pipeline_job)
            for name in self.store.children(layout.versions_prefix(model)):
                existing = self._complete_version(model, name) if name.endswith(token) else None
                if existing is not None and existing.manifest.created_by == pipeline_job:
                    return existing
        now = now or datetime.now(UTC)
        version = layout.new_version_id(now, pipeline_job or uuid.uuid4().hex)
        prefix = layout.version_prefix(model, version)
        if self.store.list(prefix):
            raise ConflictError(f"{self.store.uri(prefix)} already holds objects; not overwritten")
        source = self._source(source_uri)
        trained = parse_json_object(source.read(layout.META), source.uri_of(layout.META))
        parse_json_object(source.read(layout.METRICS), source.uri_of(layout.METRICS))
        # Exactly the files the output's manifest lists: a stale file beside them stays behind.
        pairs = {
            source.key(rel): prefix + rel for rel in source.manifest.files if layout.copied(rel)
        }
        copied = self.store.copy_in(source.store, pairs)
        files = {target[len(prefix) :]: size for target, size in copied.items()}
        changed = outputs.problems({rel: source.manifest.files[rel] for rel in files}, files)
        if changed:
            raise ConflictError(
                f"{source_uri}: changed while it was copied into {self.store.uri(prefix)} "
                f"({'; '.join(changed[:3])}); that version is left incomplete (no manifest)"
            )
        meta = {
            **trained,
            # score.py writes this into every prediction row: the registry version, not the
            # training job's own label, so predictions say which registered model made them.
            "model_version": version,
            "trained_as": trained.get("model_version", ""),
            "registry": {
                "model": model,
                "version": version,
                "source_uri": source_uri,
                "pipeline_job": pipeline_job,
                "spark_version": trained.get("spark_version", ""),
                "feature_schema_hash": feature_schema_hash(trained),
                "registered_at": now.isoformat(timespec="seconds"),
                **(lineage or {}),
            },
        }
        meta_bytes = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8")
        self.store.write(prefix + layout.META, meta_bytes, if_generation=ABSENT)
        files[layout.META] = len(meta_bytes)
        manifest = Manifest(
            model=model,
            version=version,
            created_at=now.isoformat(timespec="seconds"),
            created_by=pipeline_job,
            source_uri=source_uri,
            files=files,
        )
        # Written last: until it exists, readers do not see the version at all.
        self.store.write(prefix + layout.MANIFEST, manifest.to_json(), if_generation=ABSENT)
        return self.version(model, version)

    def _source(self, source_uri: str) -> CommittedOutput:
        """The committed train/tune output at `source_uri`, with what a version needs."""
        what = "a train/tune output"
        try:
            # No exact check: only listed files are copied, so nothing unlisted reaches a version.
            source = open_committed(source_uri, getattr(self.store, "client", None), what=what)
        except outputs.OutputError as exc:
            raise NotFoundError(str(exc)) from None
        listed = source.manifest.files
        missing = [
            name
            for name in layout.REQUIRED
            if not (source.manifest.under(name) if name.endswith("/") else name in listed)
        ]
        if missing:
            raise NotFoundError(
                f"{source_uri}: not {what} (its {layout.MANIFEST} lists no {', no '.join(missing)})"
            )
        return source

    def version(self, model: str, version: str) -> VersionInfo:
        """A complete version, or NotFoundError (an incomplete one does not exist)."""
        layout.check_model_name(model, "model")
        layout.check_version(version)
        info = self._complete_version(model, version)
        if info is None:
            known = ", ".join(v.version for v in self.versions(model)[-5:]) or "none"
            raise NotFoundError(
                f"{model}@{version}: no such version in {self.uri} (latest: {known})"
            )
        return info

    def _complete_version(self, model: str, version: str) -> VersionInfo | None:
        prefix = layout.version_prefix(model, version)
        marker = self.store.read(prefix + layout.MANIFEST)
        if marker is None:
            return None
        manifest = parse_manifest(
            marker.data, self.store.uri(prefix + layout.MANIFEST), model, version
        )
        uri = self.store.uri(prefix).rstrip("/")
        found = listing(self.store, prefix.rstrip("/"))
        damage = outputs.problems(manifest.files, found, layout.EXACT)
        if damage:
            # Immutable once written: a difference is damage (a deleted object, a hand edit).
            raise DamagedVersionError(
                str(outputs.mismatch(uri, manifest.to_output(), damage))
            ) from None
        return VersionInfo(
            model=model,
            version=version,
            uri=uri,
            manifest=manifest,
            metrics=self._json(prefix + layout.METRICS),
            meta=self._json(prefix + layout.META),
        )

    def _json(self, key: str) -> dict[str, Any]:
        obj = self.store.read(key)
        return parse_json_object(obj.data, self.store.uri(key)) if obj else {}

    def versions(self, model: str) -> list[VersionInfo]:
        """Every complete version of `model`, oldest first."""
        layout.check_model_name(model, "model")
        out = []
        for name in self.store.children(layout.versions_prefix(model)):
            info = self._complete_version(model, name) if layout.VERSION.match(name) else None
            # No manifest: still being written, or abandoned half-way; not a version.
            if info is not None:
                out.append(info)
        return out

    def models(self) -> list[str]:
        """Names of the models the registry holds."""
        return [m for m in self.store.children("") if layout.MODEL_NAME.match(m)]

    # --- aliases ---------------------------------------------------------------------------

    def alias(self, model: str, alias: str) -> AliasState:
        """The pointer of `model@alias` (move None when the alias was never set)."""
        layout.check_model_name(model, "model")
        layout.check_alias(alias)
        key = layout.alias_key(model, alias)
        obj = self.store.read(key)
        if obj is None:
            return AliasState(None, ABSENT)
        return AliasState(parse_move(obj.data, self.store.uri(key), model, alias), obj.generation)

    def aliases(self, model: str) -> dict[str, str]:
        """alias -> version for every alias of `model`."""
        out = {}
        for key in self.store.list(layout.aliases_prefix(model)):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json") and layout.ALIAS.match(name[: -len(".json")]):
                out[name[: -len(".json")]] = self.alias(model, name[: -len(".json")]).version
        return out

    def resolve(self, ref: str) -> Resolved:
        """`name@alias` / `name@version` / `name` -> the complete version folder it names."""
        parsed = layout.parse_ref(ref)
        if parsed.version:
            info = self.version(parsed.model, parsed.version)
            return Resolved(parsed.model, info.version, info.uri)
        state = self.alias(parsed.model, parsed.alias)
        if state.move is None:
            raise NotFoundError(
                f"{ref}: alias '{parsed.alias}' is not set for model '{parsed.model}' in "
                f"{self.uri}; promote a version first (models.py promote VERSION)"
            )
        info = self.version(parsed.model, state.move.version)
        return Resolved(parsed.model, info.version, info.uri, parsed.alias)

    def history(self, model: str, alias: str) -> list[Move]:
        """Every recorded move of `model@alias`, oldest first."""
        layout.check_alias(alias)
        moves = []
        for key in sorted(self.store.list(layout.history_prefix(model, alias))):
            obj = self.store.read(key)
            if obj is not None:
                moves.append(parse_move(obj.data, self.store.uri(key), model, alias))
        return moves

    def promote(
        self,
        model: str,
        version: str,
        *,
        alias: str = layout.DEFAULT_ALIAS,
        expected_generation: str | None = None,
        moved_by: str = "",
        reason: str = "",
        previous: str | None = None,
        now: datetime | None = None,
    ) -> Move:
        """Point `model@alias` at `version` with one conditional write; record the move.

        `expected_generation` is the pointer generation the caller decided on (a pipeline step
        passes what it read before scoring the champion); when somebody moved the alias since,
        ConflictError says who and to what. Without it, the current pointer is read here.
        """
        self.version(model, version)  # must exist and be complete before anything points at it
        current = self.alias(model, alias)
        generation = current.generation if expected_generation is None else expected_generation
        if generation != current.generation:
            raise self._lost(model, alias, current)
        now = now or datetime.now(UTC)
        move = Move(
            model=model,
            alias=alias,
            version=version,
            previous=current.version if previous is None else previous,
            moved_at=now.isoformat(timespec="microseconds"),
            moved_by=moved_by or who(),
            reason=reason,
            move_id=uuid.uuid4().hex[:12],
        )
        try:
            self.store.write(
                layout.alias_key(model, alias), move.to_json(), if_generation=generation
            )
        except ConflictError:
            raise self._lost(model, alias, self.alias(model, alias)) from None
        # The pointer write above is the commit; the history object only records it.
        self.store.write(
            layout.history_key(model, alias, now, move.move_id),
            move.to_json(),
            if_generation=ABSENT,
        )
        return move

    def _lost(self, model: str, alias: str, now_state: AliasState) -> ConflictError:
        move = now_state.move
        if move is None:
            return ConflictError(f"{model}@{alias} changed meanwhile (it is now unset)")
        return ConflictError(
            f"{model}@{alias} was moved meanwhile to {move.version} by {move.moved_by or '?'} "
            f"at {move.moved_at} ({move.reason or 'no reason given'}); nothing written"
        )

    def rollback(
        self, model: str, *, alias: str = layout.DEFAULT_ALIAS, moved_by: str = "", reason: str = ""
    ) -> Move:
        """Point `model@alias` back at the version it named before the current one.

        Rolling back twice goes back twice (v3 -> v2 -> v1), not back and forth: the new
        pointer's `previous` is what the target's own `previous` was when it was promoted.
        """
        state = self.alias(model, alias)
        if state.move is None:
            raise NotFoundError(f"{model}@{alias} is not set: nothing to roll back")
        target = state.move.previous
        if not target:
            raise RegistryError(
                f"{model}@{alias} = {state.move.version} has no previous version to roll back to"
            )
        before = ""
        # Newest first, stopping at the move that last made `target` the alias: one or two reads
        # in the usual case, however long the history grows.
        for key in sorted(self.store.list(layout.history_prefix(model, alias)), reverse=True):
            obj = self.store.read(key)
            move = parse_move(obj.data, self.store.uri(key), model, alias) if obj else None
            if move is not None and move.version == target:
                before = move.previous
                break
        return self.promote(
            model,
            target,
            alias=alias,
            expected_generation=state.generation,
            moved_by=moved_by,
            reason=reason or f"rollback from {state.move.version}",
            previous=before,
        )


def open_registry(uri: str | None = None, client=None) -> Registry:
    """The registry at `uri` (gs://, file:// or a path); the local default when None or ''."""
    if uri is not None and not isinstance(uri, str):
        raise RegistryError(f"registry location must be a string, got {uri!r}")
    return Registry(open_store(uri or layout.default_local_registry(), client=client))
