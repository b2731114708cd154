"""What one load is: a table, the pipeline job whose rows it replaces, and where rows come from.

Pure descriptions; `warehouse.bigquery` and `warehouse.duckdb_store` carry them out the same way:
resolve a Parquet source to the files its manifest lists (warehouse.sources), stage them, then in
ONE transaction delete the job's rows and insert the staged ones. A retried or re-run pipeline
job therefore replaces its rows and never duplicates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from warehouse import records
from warehouse.errors import SourceError
from warehouse.schemas import (
    FEATURE_IMPORTANCES,
    MODEL_METRICS,
    PREDICTIONS,
    PREPARED_DATA,
    TableSpec,
)
from warehouse.sources import ParquetSource


@dataclass(frozen=True)
class Load:
    """Replace `pipeline_job`'s rows of `spec` with the rows of a committed output or of `rows`.

    `constants` are columns the load itself fills (the same value on every row: pipeline_job,
    scored_at...); every other contract column must come from the source.
    """

    spec: TableSpec
    pipeline_job: str
    parquet: ParquetSource | None = None
    rows: tuple[dict[str, Any], ...] | None = None
    constants: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.pipeline_job:
            raise SourceError(f"{self.spec.name}: pipeline_job is empty (rows need an owner)")
        if (self.rows is None) == (self.parquet is None):
            raise ValueError("a Load takes either parquet or rows")
        unknown = sorted(set(self.constants) - set(self.spec.column_names))
        if unknown:
            raise ValueError(f"{self.spec.name}: constants for unknown column(s) {unknown}")

    @property
    def all_constants(self) -> dict[str, Any]:
        """`constants` plus pipeline_job (Parquet sources do not carry it; rows do)."""
        if self.rows is not None:
            return dict(self.constants)
        return {"pipeline_job": self.pipeline_job, **self.constants}

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The contract columns the source must provide."""
        fixed = self.all_constants
        return tuple(n for n in self.spec.column_names if n not in fixed)


def predictions_load(
    predictions_uri: str, pipeline_job: str, scoring_date: str = "", scored_at: str = ""
) -> Load:
    """A scoring run's committed predictions (score's data/); scoring_date defaults to
    scored_at's UTC date."""
    stamp = (
        records.parse_timestamp(scored_at, "scored_at")
        if scored_at
        else dt.datetime.now(dt.UTC).replace(microsecond=0)
    )
    try:
        day = dt.date.fromisoformat(scoring_date) if scoring_date else stamp.date()
    except ValueError as exc:
        raise SourceError(f"scoring_date: not a YYYY-MM-DD date: {scoring_date!r}") from exc
    return Load(
        PREDICTIONS,
        pipeline_job,
        parquet=ParquetSource(predictions_uri.rstrip("/")),
        constants={"scored_at": stamp, "scoring_date": day},
    )


def prepared_data_load(prepared_uri: str, pipeline_job: str) -> Load:
    """The cleaned training rows of a committed preprocess output (its listed `data/` files)."""
    return Load(PREPARED_DATA, pipeline_job, parquet=ParquetSource(prepared_uri.rstrip("/")))


def training_loads(
    *,
    model_name: str,
    model_version: str,
    metrics: dict[str, Any],
    meta: dict[str, Any],
    outcome: records.Outcome,
    data_version: str,
    code_version: str,
    pipeline_job: str,
    source: str,
) -> list[Load]:
    """The model_metrics row and feature_importances rows of one trained version."""
    metrics_row = records.model_metrics_row(
        model_name=model_name,
        model_version=model_version,
        metrics=metrics,
        meta=meta,
        outcome=outcome,
        data_version=data_version,
        code_version=code_version,
        pipeline_job=pipeline_job,
        source=source,
    )
    importances = records.feature_importance_rows(
        model_version=model_version, metrics=metrics, pipeline_job=pipeline_job, source=source
    )
    return [
        Load(MODEL_METRICS, pipeline_job, rows=(metrics_row,)),
        Load(FEATURE_IMPORTANCES, pipeline_job, rows=tuple(importances)),
    ]
