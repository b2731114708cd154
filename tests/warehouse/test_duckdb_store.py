"""The local warehouse against real DuckDB: tables, idempotent loads, schema checks."""

from __future__ import annotations

import duckdb
import pytest

from tests.warehouse import data
from warehouse.duckdb_store import DuckDBWarehouse
from warehouse.errors import SchemaMismatchError, SourceError
from warehouse.loads import predictions_load, prepared_data_load, training_loads
from warehouse.records import Outcome


@pytest.fixture
def store(tmp_path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "runs" / "warehouse.duckdb")


def _predictions(tmp_path, n=50, version="v1"):
    return data.write_local(
        tmp_path / "preds", data.committed_parquet(data.predictions_table(n, version))
    )


def test_scoring_twice_for_one_run_leaves_no_duplicates(store, tmp_path):
    folder = _predictions(tmp_path, 50)
    load = predictions_load(str(folder), "scoring-20261201", scored_at="2026-12-01T06:00:00Z")
    assert store.replace(load) == 50
    assert store.replace(load) == 50
    rows = store.query("SELECT pipeline_job, scoring_date, count(*) FROM predictions GROUP BY ALL")
    assert [(j, str(d), n) for j, d, n in rows] == [("scoring-20261201", "2026-12-01", 50)]


def test_a_rerun_replaces_only_its_own_job(store, tmp_path):
    store.replace(predictions_load(str(_predictions(tmp_path, 30)), "job-a"))
    (tmp_path / "preds").rename(tmp_path / "a")
    second = data.write_local(
        tmp_path / "b", data.committed_parquet(data.predictions_table(20, "v2"))
    )
    store.replace(predictions_load(str(second), "job-b"))
    smaller = data.write_local(
        tmp_path / "c", data.committed_parquet(data.predictions_table(5, "v2"))
    )
    store.replace(predictions_load(str(smaller), "job-b"))
    counts = dict(store.query("SELECT pipeline_job, count(*) FROM predictions GROUP BY 1"))
    assert counts == {"job-a": 30, "job-b": 5}


def test_missing_parquet_and_wrong_columns_load_nothing(store, tmp_path):
    with pytest.raises(SourceError, match="no Parquet files"):
        store.replace(predictions_load(str(tmp_path / "nowhere"), "job-a"))
    bad = data.predictions_table(10).drop_columns(["model_version"])
    folder = data.write_local(tmp_path / "bad", data.committed_parquet(bad))
    with pytest.raises(SourceError, match="missing column model_version"):
        store.replace(predictions_load(str(folder), "job-a"))
    assert store.query("SELECT count(*) FROM predictions") == [(0,)]


def test_a_table_that_drifted_from_the_contract_is_refused_before_loading(store, tmp_path):
    store.path.parent.mkdir(parents=True)
    with duckdb.connect(str(store.path)) as con:
        con.execute("CREATE TABLE predictions (customer_id VARCHAR, churn_probability VARCHAR)")
    with pytest.raises(SchemaMismatchError) as err:
        store.replace(predictions_load(str(_predictions(tmp_path)), "job-a"))
    message = str(err.value)
    assert "predictions" in message
    assert "churn_probability is STRING, the contract says FLOAT64" in message
    assert "missing column model_version" in message
    assert store.query("SELECT count(*) FROM predictions") == [(0,)]


def test_training_results_and_prepared_data(store, tmp_path):
    loads = training_loads(
        model_name="churn",
        model_version="rf-20261130T020000Z",
        metrics=data.metrics_json(),
        meta=data.model_meta(),
        outcome=Outcome("auc_pr", 0.5, True, True, "beats champion", 0.61, 0.55, "rf-old"),
        data_version="gs://data/raw/latest.csv",
        code_version="gs://code/v7",
        pipeline_job="training-20261130",
        source="runs/x/metrics.json",
    )
    for _ in range(2):  # a retried job
        for load in loads:
            store.replace(load)
    prepared = data.write_local(
        tmp_path / "prep", data.committed_parquet(data.prepared_table(40), job="preprocess")
    )
    store.replace(prepared_data_load(str(prepared), "training-20261130"))
    metrics = store.query(
        "SELECT model_version, auc_pr, promoted, champion_value FROM model_metrics"
    )
    assert metrics == [("rf-20261130T020000Z", 0.61, True, 0.55)]
    ranks = store.query("SELECT feature, rank FROM feature_importances ORDER BY rank")
    assert ranks == [("contract_Month-to-month", 1), ("tenure", 2), ("monthly_charges", 3)]
    assert store.query("SELECT count(*), min(pipeline_job) FROM prepared_data") == [
        (40, "training-20261130")
    ]
