"""The loads read exactly what a Spark output committed, and refuse what it did not: BigQuery
(real client, fake BigQuery, GCS emulator) and the local DuckDB file."""

from __future__ import annotations

import json
import re

import pytest

from contract import outputs
from tests.committed import ROOT, committed_files
from tests.warehouse import data
from tests.warehouse.conftest import DATASET, upload
from warehouse.bigquery import BigQueryWarehouse
from warehouse.duckdb_store import DuckDBWarehouse
from warehouse.errors import SourceError
from warehouse.loads import predictions_load
from warehouse.publish import TrainingResult, load_training
from warehouse.records import Outcome

PART = "data/part-00000-abc.snappy.parquet"
PRED_TABLE = f"{DATASET}.predictions"


def predictions(n: int = 40) -> dict[str, bytes]:
    return data.committed_parquet(data.predictions_table(n))


def stale(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a retried or killed writer leaves beside a commit: more copies of the rows."""
    extra = dict(files)
    extra[f"{ROOT}/data/part-00007-retry.snappy.parquet"] = files[f"{ROOT}/{PART}"]
    extra[f"attempt-20000101t000000z-deadbeef/{PART}"] = files[f"{ROOT}/{PART}"]
    return extra


def damaged(files: dict[str, bytes], damage: str) -> tuple[dict[str, bytes], str]:
    files = dict(files)
    if damage == "no manifest":
        del files[outputs.MANIFEST]
        return files, "no Parquet files to load: "
    if damage == "missing":
        del files[f"{ROOT}/{PART}"]
        return files, f"{PART} is missing"
    if damage == "truncated":
        files[f"{ROOT}/{PART}"] = files[f"{ROOT}/{PART}"][:-8]
        return files, "bytes, the manifest says"
    # rows: a manifest that counts rows its files do not hold
    body = json.loads(files[outputs.MANIFEST])
    body["rows"] = 41
    files[outputs.MANIFEST] = json.dumps(body).encode()
    return files, "40 rows were read from"


DAMAGE = ["no manifest", "missing", "truncated", "rows"]


def test_bigquery_loads_only_the_listed_files(bq, fake_bq, gcs):
    uri = upload(gcs, "runs/job-1/predictions", stale(predictions(40)))
    assert BigQueryWarehouse(bq, DATASET).replace(predictions_load(uri, "scoring-1")) == 40
    assert fake_bq.rows(PRED_TABLE).num_rows == 40


@pytest.mark.parametrize("damage", DAMAGE)
def test_bigquery_refuses_an_output_that_is_not_whole(bq, fake_bq, gcs, damage):
    wh = BigQueryWarehouse(bq, DATASET)
    wh.replace(predictions_load(upload(gcs, "runs/ok/predictions", predictions(25)), "scoring-1"))
    files, message = damaged(predictions(40), damage)
    uri = upload(gcs, f"runs/{damage.replace(' ', '-')}/predictions", files)
    with pytest.raises(SourceError, match=re.escape(message)) as caught:
        wh.replace(predictions_load(uri, "scoring-1"))
    assert str(caught.value).startswith(f"{PRED_TABLE}: ") and uri in str(caught.value)
    assert fake_bq.rows(PRED_TABLE).num_rows == 25  # the job's earlier rows stand
    assert fake_bq.table_names() == [PRED_TABLE]  # no staging table left behind


def test_duckdb_loads_only_the_listed_files(tmp_path):
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    folder = data.write_local(tmp_path / "preds", stale(predictions(30)))
    assert store.replace(predictions_load(str(folder), "scoring-1")) == 30


@pytest.mark.parametrize("damage", DAMAGE)
def test_duckdb_refuses_an_output_that_is_not_whole(tmp_path, damage):
    store = DuckDBWarehouse(tmp_path / "w.duckdb")
    files, message = damaged(predictions(40), damage)
    folder = data.write_local(tmp_path / "preds", files)
    with pytest.raises(SourceError, match=re.escape(message)) as caught:
        store.replace(predictions_load(str(folder), "scoring-1"))
    assert str(folder) in str(caught.value)
    assert store.query("SELECT count(*) FROM predictions") == [(0,)]


def test_training_results_refuse_a_damaged_version_folder(fake_bq, gcs, tmp_path):
    version = {"metrics.json": json.dumps(data.metrics_json()).encode(), "model_meta.json": b"{}"}
    files = committed_files(version, root="", job="register")
    files["metrics.json"] = b'{"auc_pr": 0.99}'  # rewritten after the version was committed
    uri = upload(gcs, "models/churn/versions/v1", files)
    prepared = upload(gcs, "runs/t1/prepared", data.committed_parquet(data.prepared_table(3)))
    result = TrainingResult("churn", uri, prepared, Outcome())
    with pytest.raises(SourceError, match=re.escape("metrics.json has 16 bytes")) as caught:
        load_training(DATASET, result, "train-1", storage_client=gcs)
    assert str(caught.value).startswith(f"{uri}: its files do not match its manifest.json")
    assert fake_bq.calls == {}
