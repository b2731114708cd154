"""Test data shaped like the Spark jobs' outputs: predictions Parquet, prepared data, metrics."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.committed import committed_files
from warehouse.schemas import PREPARED_DATA


def predictions_table(n: int, version: str = "rf-20261130T020000Z", seed: int = 1) -> pa.Table:
    """What spark/score.py writes: customer_id, churn_probability, predicted_label, version."""
    rng = random.Random(seed)
    probs = [rng.random() for _ in range(n)]
    return pa.table(
        {
            "customer_id": [f"{i:04d}-CUST" for i in range(n)],
            "churn_probability": probs,
            "predicted_label": ["Yes" if p >= 0.5 else "No" for p in probs],
            "model_version": [version] * n,
        }
    )


def parquet_parts(table: pa.Table, parts: int = 2) -> dict[str, bytes]:
    """`table` split into Spark-like part files (plus a _SUCCESS marker), name -> bytes."""
    out: dict[str, bytes] = {"_SUCCESS": b""}
    step = max(1, -(-table.num_rows // parts))
    for i, start in enumerate(range(0, max(table.num_rows, 1), step)):
        buf = io.BytesIO()
        pq.write_table(table.slice(start, step), buf)
        out[f"part-{i:05d}-abc.snappy.parquet"] = buf.getvalue()
    return out


def committed_parquet(table: pa.Table, parts: int = 2, job: str = "score") -> dict[str, bytes]:
    """`table` as a Spark job commits it: part files under <attempt>/data/, then the manifest
    (with the row count, as preprocess and score write it)."""
    files = {f"data/{name}": data for name, data in parquet_parts(table, parts).items()}
    return committed_files(files, job=job, rows=table.num_rows)


def write_local(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def prepared_table(n: int) -> pa.Table:
    """Rows shaped like spark/preprocess.py's data/ (Spark writes int columns as int32)."""
    columns: dict[str, Any] = {}
    for col in PREPARED_DATA.columns:
        if col.name == "pipeline_job":
            continue
        if col.type == "STRING":
            columns[col.name] = pa.array([f"{col.name}-{i % 3}" for i in range(n)])
        elif col.type == "INT64":
            columns[col.name] = pa.array([i % 72 for i in range(n)], pa.int32())
        else:
            columns[col.name] = pa.array([float(i) for i in range(n)])
    return pa.table(columns)


def metrics_json(auc_pr: float = 0.61) -> dict[str, Any]:
    return {
        "auc_roc": 0.84,
        "auc_pr": auc_pr,
        "accuracy": 0.8,
        "f1": 0.58,
        "precision": 0.65,
        "recall": 0.52,
        "log_loss": 0.42,
        "confusion_matrix": {"labels": ["No", "Yes"], "matrix": [[900, 100], [150, 250]]},
        "roc_curve": [[0.0, 0.0], [1.0, 1.0]],
        "pr_curve": [[0.0, 1.0], [1.0, 0.3]],
        "n_train": 5600,
        "n_test": 1400,
        "feature_importances": [
            {"feature": "contract_Month-to-month", "importance": 0.31},
            {"feature": "tenure", "importance": 0.22},
            {"feature": "monthly_charges", "importance": 0.1},
        ],
        "params": {"classifier": "rf", "numTrees": 50},
    }


def model_meta() -> dict[str, Any]:
    return {
        "model_version": "rf-20261130T020000Z",
        "classifier": "rf",
        "trained_at": "2026-11-30T02:00:00+00:00",
    }
