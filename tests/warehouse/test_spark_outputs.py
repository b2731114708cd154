"""The contract meets the real Spark outputs: preprocess, train and score on local Spark, then
every table loads into DuckDB and the documented query joins predictions to their metrics."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from warehouse import query
from warehouse.duckdb_store import DuckDBWarehouse
from warehouse.publish import TrainingResult, load_predictions, load_training
from warehouse.records import Outcome

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_outputs(tmp_path_factory) -> Iterator[dict[str, str]]:
    os.environ.pop("SPARK_REMOTE", None)
    from churn import generator, jobs
    from pyspark.sql import SparkSession

    # Another test area's session-wide Spark is reused and left running for it.
    started_here = SparkSession.getActiveSession() is None
    root = tmp_path_factory.mktemp("spark")
    with open(root / "raw.csv", "w") as out:
        generator.write_csv(out, 400, seed=3)
    with open(root / "customers.csv", "w") as out:
        generator.write_csv(out, 120, seed=4, scoring=True)
    jobs.preprocess(str(root / "raw.csv"), str(root / "prepared"))
    jobs.train(str(root / "prepared"), str(root / "train"), classifier="rf", seed=1)
    jobs.score(str(root / "train"), str(root / "customers.csv"), str(root / "scores"))
    yield {k: str(root / k) for k in ("prepared", "train", "scores")}
    active = SparkSession.getActiveSession()
    if started_here and active is not None:
        active.stop()


def test_real_spark_outputs_load_and_join(spark_outputs, tmp_path):
    store = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    result = TrainingResult(
        "churn",
        spark_outputs["train"],
        spark_outputs["prepared"],
        Outcome("auc_pr", 0.1, True, True, "no champion yet", 0.5),
    )
    for _ in range(2):  # a re-run of the same jobs
        counts = load_training("", result, "train-1", warehouse=store)
        rows = load_predictions("", spark_outputs["scores"], "score-1", warehouse=store)
    assert counts["prepared_data"] == 400 and counts["model_metrics"] == 1
    assert counts["feature_importances"] > 0
    assert rows == 120
    (history,) = store.query(query.EXAMPLE.read_text())
    assert history[7] == 120  # the version's predictions join its metrics row
    labels = store.query("SELECT DISTINCT predicted_label FROM predictions ORDER BY 1")
    assert set(labels) <= {("No",), ("Yes",)}
