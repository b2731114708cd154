"""Pure construction of the rows the training results become (no I/O).

metrics.json and model_meta.json are what train/tune write (design.md); the champion/challenger
outcome comes from the registry's promote step. Missing metrics are NULL, never invented.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from warehouse.errors import SourceError
from warehouse.schemas import FEATURE_IMPORTANCES, MODEL_METRICS, TableSpec

_FLOAT_METRICS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")


@dataclass(frozen=True)
class Outcome:
    """The gate and champion/challenger outcome of one trained version."""

    gate_metric: str = ""
    gate_threshold: float | None = None
    gate_passed: bool | None = None
    promoted: bool | None = None
    decision: str = ""
    challenger_value: float | None = None
    champion_value: float | None = None
    champion_version: str = ""


def _float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SourceError(f"{where}: expected an integer, got {value!r}")
    return int(value)


def parse_timestamp(text: str, where: str) -> dt.datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (naive input is taken as UTC)."""
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError) as exc:
        raise SourceError(f"{where}: not an ISO-8601 timestamp: {text!r}") from exc
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def model_metrics_row(
    *,
    model_name: str,
    model_version: str,
    metrics: Mapping[str, Any],
    meta: Mapping[str, Any],
    outcome: Outcome,
    data_version: str,
    code_version: str,
    pipeline_job: str,
    source: str = "metrics.json",
) -> dict[str, Any]:
    """The `model_metrics` row of one version (`source` names the file in error messages)."""
    if not model_version:
        raise SourceError(f"{source}: model_version is empty")
    row: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "classifier": meta.get("classifier"),
        **{m: _float(metrics.get(m), f"{source}: {m}") for m in _FLOAT_METRICS},
        "confusion_matrix": _json_or_none(metrics.get("confusion_matrix")),
        "n_train": _int(metrics.get("n_train"), f"{source}: n_train"),
        "n_test": _int(metrics.get("n_test"), f"{source}: n_test"),
        "params": _json_or_none(metrics.get("params")),
        "gate_metric": outcome.gate_metric or None,
        "gate_threshold": outcome.gate_threshold,
        "gate_passed": outcome.gate_passed,
        "promoted": outcome.promoted,
        "promotion_decision": outcome.decision or None,
        "challenger_value": outcome.challenger_value,
        "champion_value": outcome.champion_value,
        "champion_version": outcome.champion_version,
        "data_version": data_version or None,
        "code_version": code_version or None,
        "pipeline_job": pipeline_job,
        "trained_at": parse_timestamp(str(meta.get("trained_at", "")), f"{source}: trained_at"),
    }
    return _complete(MODEL_METRICS, row)


def feature_importance_rows(
    *, model_version: str, metrics: Mapping[str, Any], pipeline_job: str, source: str
) -> list[dict[str, Any]]:
    """One row per entry of metrics.json `feature_importances`, ranked as written (1 = top)."""
    entries = metrics.get("feature_importances") or []
    if not isinstance(entries, list):
        raise SourceError(f"{source}: feature_importances must be a list, got {type(entries)}")
    rows = []
    for rank, entry in enumerate(entries, start=1):
        where = f"{source}: feature_importances[{rank - 1}]"
        if not isinstance(entry, dict) or not entry.get("feature"):
            raise SourceError(f"{where}: expected {{feature, importance}}, got {entry!r}")
        rows.append(
            {
                "model_version": model_version,
                "feature": str(entry["feature"]),
                "importance": _float(entry.get("importance"), f"{where}.importance"),
                "rank": rank,
                "pipeline_job": pipeline_job,
            }
        )
    return [_complete(FEATURE_IMPORTANCES, r) for r in rows]


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _complete(spec: TableSpec, row: dict[str, Any]) -> dict[str, Any]:
    missing = [c.name for c in spec.columns if c.required and row.get(c.name) in (None, "")]
    if missing:
        raise SourceError(f"{spec.name}: required value(s) missing: {', '.join(missing)}")
    return {name: row.get(name) for name in spec.column_names}


def arrow_table(spec: TableSpec, rows: list[dict[str, Any]]):
    """`rows` as a pyarrow Table with the contract's column order and types."""
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=arrow_schema(spec))


def arrow_schema(spec: TableSpec, columns: tuple[str, ...] | None = None):
    """The pyarrow schema of `spec` (or of some of its columns)."""
    import pyarrow as pa

    kinds = {
        "STRING": pa.string(),
        "FLOAT64": pa.float64(),
        "INT64": pa.int64(),
        "BOOL": pa.bool_(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "DATE": pa.date32(),
    }
    names = columns or spec.column_names
    return pa.schema(
        [
            pa.field(n, kinds[spec.column(n).type], nullable=not spec.column(n).required)
            for n in names
        ]
    )
