"""BigQuery loads with the real google-cloud-bigquery client against fakes/bigquery.py."""

from __future__ import annotations

import re

import pytest
from google.cloud import bigquery

from tests.warehouse import data
from tests.warehouse.conftest import DATASET, upload
from warehouse.bigquery import BigQueryWarehouse
from warehouse.errors import SchemaMismatchError, SourceError, WarehouseError
from warehouse.loads import predictions_load, prepared_data_load, training_loads
from warehouse.records import Outcome
from warehouse.schemas import PREDICTIONS

PRED_TABLE = f"{DATASET}.predictions"


def _scores(gcs, n=40, prefix="runs/job-1/predictions", version="v1"):
    return upload(gcs, prefix, data.committed_parquet(data.predictions_table(n, version)))


def _counts(fake_bq, table=PRED_TABLE):
    rows = fake_bq.rows(table).group_by("pipeline_job").aggregate([("customer_id", "count")])
    return dict(
        zip(rows["pipeline_job"].to_pylist(), rows["customer_id_count"].to_pylist(), strict=True)
    )


def test_first_load_creates_the_partitioned_clustered_table(bq, fake_bq, gcs):
    uri = _scores(gcs)
    loaded = BigQueryWarehouse(bq, DATASET).replace(
        predictions_load(uri, "scoring-1", scored_at="2026-12-01T06:00:00Z")
    )
    assert loaded == 40
    table = bq.get_table(PRED_TABLE)
    assert table.time_partitioning.field == "scoring_date"
    assert table.time_partitioning.type_ == "DAY"
    assert table.clustering_fields == ["customer_id"]
    assert [f.name for f in table.schema] == list(PREDICTIONS.column_names)
    rows = fake_bq.rows(PRED_TABLE)
    assert set(rows["scoring_date"].to_pylist()) == {__import__("datetime").date(2026, 12, 1)}
    assert fake_bq.table_names() == [PRED_TABLE]  # the staging table is gone


def test_a_retried_job_replaces_its_rows_and_leaves_other_jobs_alone(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    wh.replace(predictions_load(_scores(gcs, 40), "scoring-1"))
    other = _scores(gcs, 25, prefix="runs/job-2/predictions")
    wh.replace(predictions_load(other, "scoring-2"))
    wh.replace(predictions_load(other, "scoring-2"))
    smaller = _scores(gcs, 10, prefix="runs/job-2b/predictions")
    wh.replace(predictions_load(smaller, "scoring-2"))
    assert _counts(fake_bq) == {"scoring-1": 40, "scoring-2": 10}
    script = fake_bq.queries[-1]
    assert script.startswith("BEGIN TRANSACTION;") and script.endswith("COMMIT TRANSACTION;")


def test_a_failure_inside_the_transaction_leaves_the_previous_rows(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    uri = _scores(gcs, 40)
    wh.replace(predictions_load(uri, "scoring-1"))
    # The INSERT fails after the DELETE ran inside the transaction: the client's job retry
    # re-runs the whole script as a new job, which replaces the rows once.
    fake_bq.fail_statement("INSERT")
    wh.replace(predictions_load(uri, "scoring-1"))
    assert _counts(fake_bq) == {"scoring-1": 40}
    assert fake_bq.calls["jobs.insert"] >= 5


def test_a_script_that_fails_for_good_changes_nothing(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    wh.replace(predictions_load(_scores(gcs, 40), "scoring-1"))
    newer = _scores(gcs, 10, prefix="runs/job-1b/predictions", version="v2")
    fake_bq.fail_statement("INSERT", reason="invalidQuery")
    with pytest.raises(WarehouseError, match=f"{PRED_TABLE}: could not replace the rows"):
        wh.replace(predictions_load(newer, "scoring-1"))
    assert _counts(fake_bq) == {"scoring-1": 40}
    assert set(fake_bq.rows(PRED_TABLE)["model_version"].to_pylist()) == {"v1"}
    assert fake_bq.table_names() == [PRED_TABLE]


def test_a_transaction_cancelled_by_a_concurrent_one_is_run_again(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    wh.conflict_backoff = (0.0, 0.0)
    uri = _scores(gcs, 15)
    conflict = f"Transaction is aborted due to concurrent update against table {PRED_TABLE}"
    fake_bq.fail_statement("DELETE", reason="invalidQuery", message=conflict)
    wh.replace(predictions_load(uri, "scoring-1"))
    assert _counts(fake_bq) == {"scoring-1": 15}
    for _ in range(3):
        fake_bq.fail_statement("DELETE", reason="invalidQuery", message=conflict)
    with pytest.raises(WarehouseError, match="concurrent update"):
        wh.replace(predictions_load(_scores(gcs, 5, prefix="runs/x/predictions"), "scoring-1"))
    assert _counts(fake_bq) == {"scoring-1": 15}


def test_transient_api_errors_are_retried(bq, fake_bq, gcs):
    uri = _scores(gcs, 12)
    fake_bq.inject_fault("jobs.insert", 503, reason="backendError")
    fake_bq.inject_fault("tables.get", 500, reason="backendError")
    BigQueryWarehouse(bq, DATASET).replace(predictions_load(uri, "scoring-1"))
    assert _counts(fake_bq) == {"scoring-1": 12}
    assert len(fake_bq.faults) == 0  # both faults were met, and retried


def test_a_table_with_another_schema_is_refused_before_anything_is_loaded(bq, fake_bq, gcs):
    table = bigquery.Table(
        PRED_TABLE,
        schema=[
            bigquery.SchemaField("customer_id", "STRING", mode="REQUIRED"),
            bigquery.SchemaField("churn_probability", "STRING"),
        ],
    )
    bq.create_table(table)
    with pytest.raises(SchemaMismatchError) as err:
        BigQueryWarehouse(bq, DATASET).replace(predictions_load(_scores(gcs), "scoring-1"))
    message = str(err.value)
    assert PRED_TABLE in message
    assert "churn_probability is STRING, the contract says FLOAT64" in message
    assert "missing column model_version" in message
    assert "partitioned by None, the contract says scoring_date" in message
    assert fake_bq.calls["jobs.insert"] == 0
    assert fake_bq.rows(PRED_TABLE).num_rows == 0


def test_a_missing_dataset_names_the_table(bq, fake_bq, gcs):
    uri = _scores(gcs)
    with pytest.raises(
        WarehouseError, match=r"acme-analytics\.nope\.predictions: the dataset does"
    ):
        BigQueryWarehouse(bq, "acme-analytics.nope").replace(predictions_load(uri, "scoring-1"))
    assert fake_bq.calls["jobs.insert"] == 0


def test_no_permission_names_the_table_and_loads_nothing(bq, fake_bq, gcs):
    uri = _scores(gcs)
    fake_bq.deny(DATASET)
    with pytest.raises(WarehouseError, match=f"{PRED_TABLE}: no permission") as err:
        BigQueryWarehouse(bq, DATASET).replace(predictions_load(uri, "scoring-1"))
    assert "roles/bigquery.dataEditor" in str(err.value)
    assert fake_bq.table_names() == []


def test_missing_or_wrong_parquet_loads_nothing(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    with pytest.raises(SourceError, match=re.escape(f"{PRED_TABLE}: no Parquet files")):
        wh.replace(predictions_load(f"gs://{'acme-churn-predictions'}/nothing", "scoring-1"))
    bad = data.predictions_table(5).drop_columns(["model_version"])
    uri = upload(gcs, "runs/bad/predictions", data.committed_parquet(bad))
    with pytest.raises(SourceError, match="missing column model_version") as err:
        wh.replace(predictions_load(uri, "scoring-1"))
    assert str(err.value).startswith(f"{PRED_TABLE}: gs://")
    assert fake_bq.rows(PRED_TABLE).num_rows == 0
    assert fake_bq.table_names() == [PRED_TABLE]


def test_training_results_and_prepared_data(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    loads = training_loads(
        model_name="churn",
        model_version="rf-20261130T020000Z",
        metrics=data.metrics_json(),
        meta=data.model_meta(),
        outcome=Outcome("auc_pr", 0.5, True, False, "did not beat champion", 0.61, 0.63, "rf-1"),
        data_version="gs://acme-data/raw/latest.csv",
        code_version="gs://acme-code/v7",
        pipeline_job="training-1",
        source="gs://x/metrics.json",
    )
    for _ in range(2):
        for load in loads:
            wh.replace(load)
    prepared = upload(gcs, "runs/t1/prepared", data.committed_parquet(data.prepared_table(30)))
    wh.replace(prepared_data_load(prepared, "training-1"))
    metrics = fake_bq.rows(f"{DATASET}.model_metrics").to_pylist()
    assert len(metrics) == 1
    assert metrics[0]["promoted"] is False and metrics[0]["champion_value"] == 0.63
    importances = fake_bq.rows(f"{DATASET}.feature_importances")
    assert importances["rank"].to_pylist() == [1, 2, 3]
    prepared_rows = fake_bq.rows(f"{DATASET}.prepared_data")
    assert prepared_rows.num_rows == 30
    assert set(prepared_rows["pipeline_job"].to_pylist()) == {"training-1"}


def test_a_retry_on_another_day_moves_the_jobs_rows_to_that_day(bq, fake_bq, gcs):
    wh = BigQueryWarehouse(bq, DATASET)
    uri = _scores(gcs, 8)
    wh.replace(predictions_load(uri, "scoring-1", scoring_date="2026-12-01"))
    wh.replace(predictions_load(uri, "scoring-1", scoring_date="2026-12-02"))
    days = fake_bq.rows(PRED_TABLE)["scoring_date"].to_pylist()
    assert len(days) == 8 and {d.isoformat() for d in days} == {"2026-12-02"}


def test_a_model_without_importances_clears_the_jobs_old_rows(bq, fake_bq):
    wh = BigQueryWarehouse(bq, DATASET)
    common = {
        "model_name": "churn",
        "model_version": "lr-1",
        "meta": data.model_meta(),
        "outcome": Outcome(),
        "data_version": "",
        "code_version": "",
        "pipeline_job": "training-2",
        "source": "metrics.json",
    }
    _, importances = training_loads(metrics=data.metrics_json(), **common)
    wh.replace(importances)
    _, none = training_loads(metrics={**data.metrics_json(), "feature_importances": []}, **common)
    assert wh.replace(none) == 0
    assert fake_bq.rows(f"{DATASET}.feature_importances").num_rows == 0
