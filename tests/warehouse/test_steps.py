"""The pipeline steps' code (components/load_warehouse.py) on both targets, end to end."""
# No `from __future__ import annotations`: KFP reads the pipeline signature's types.

import json

import pytest
from kfp import dsl

from components import load_warehouse as steps
from fakes.dataset_service import fake_dataset_service
from tests.committed import committed_files
from tests.warehouse import data
from tests.warehouse.conftest import DATASET, upload
from warehouse.duckdb_store import DuckDBWarehouse
from warehouse.errors import WarehouseError


def load_predictions(*args, **kwargs) -> int:
    """The step's function with the lineage artifacts a pipeline passes it."""
    predictions = dsl.Dataset(name="predictions", uri="unset", metadata={})
    model = dsl.Model(name="model", uri="gs://acme-churn-dev-models/churn/versions/v1", metadata={})
    rows = steps.load_predictions.python_func(*args, model=model, predictions=predictions, **kwargs)
    assert predictions.uri == (args[1] if len(args) > 1 else kwargs["predictions_uri"])
    return rows


def _version_files(auc_pr=0.61):
    """A registered version's files as model_registry commits them (metrics + meta with
    lineage, listed by the version's manifest, files in the folder itself)."""
    meta = {
        **data.model_meta(),
        "model_version": "20261130t020000z-abc123",
        "registry": {"training_data_uri": "data/raw/latest.csv", "code_version": "spark/"},
    }
    files = {
        "metrics.json": json.dumps(data.metrics_json(auc_pr)).encode(),
        "model_meta.json": json.dumps(meta).encode(),
    }
    return committed_files(files, root="", job="register")


def _version_folder(root, auc_pr=0.61):
    return str(data.write_local(root, _version_files(auc_pr)))


TRAINING_ARGS = {
    "model_name": "churn",
    "gate_metric": "auc_pr",
    "gate_threshold": 0.5,
    "gate_passed": True,
    "promoted": True,
    "decision": "no champion yet",
    "challenger_value": 0.61,
    "champion_value": 0.0,
    "champion_version": "",
}


def test_local_steps_fill_the_duckdb_file_and_a_rerun_replaces(tmp_path):
    db = tmp_path / "runs" / "warehouse.duckdb"
    target = f"duckdb:{db}"
    preds = data.write_local(tmp_path / "p", data.committed_parquet(data.predictions_table(25)))
    prepared = tmp_path / "prep"
    data.write_local(prepared, data.committed_parquet(data.prepared_table(12)))
    version = _version_folder(tmp_path / "v1")
    for _ in range(2):
        assert load_predictions(target, str(preds), "score-1", scoring_date="2026-12-01") == 25
        counts = steps.load_training_results.python_func(
            bq_dataset=target,
            pipeline_job="train-1",
            version_uri=version,
            prepared_uri=str(prepared),
            **TRAINING_ARGS,
        )
    assert json.loads(counts) == {"feature_importances": 3, "model_metrics": 1, "prepared_data": 12}
    assert steps.register_dataset.python_func(target, "europe-west4") == ""
    store = DuckDBWarehouse(db)
    assert store.query("SELECT count(*) FROM predictions") == [(25,)]
    row = store.query("SELECT model_version, champion_value, data_version FROM model_metrics")
    assert row == [("20261130t020000z-abc123", None, "data/raw/latest.csv")]


def test_cloud_steps_load_bigquery_and_register_the_dataset(
    bq_server, fake_bq, gcs, tmp_path, monkeypatch
):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bq_server[1])
    preds = upload(gcs, "runs/s1/predictions", data.committed_parquet(data.predictions_table(30)))
    prepared = upload(gcs, "runs/t1/prepared", data.committed_parquet(data.prepared_table(9)))
    version = upload(gcs, "models/churn/versions/v1", _version_files())
    assert load_predictions(DATASET, preds, "score-1") == 30
    counts = steps.load_training_results.python_func(
        bq_dataset=DATASET,
        pipeline_job="train-1",
        version_uri=version,
        prepared_uri=prepared,
        **TRAINING_ARGS,
    )
    assert json.loads(counts)["prepared_data"] == 9
    assert fake_bq.rows(f"{DATASET}.model_metrics")["data_version"].to_pylist() == [
        "data/raw/latest.csv"
    ]
    with fake_dataset_service() as (fake_vertex, address):
        monkeypatch.setenv("AIPLATFORM_EMULATOR_HOST", address)
        first = steps.register_dataset.python_func(DATASET, "europe-west4")
        again = steps.register_dataset.python_func(DATASET, "europe-west4", "acme-analytics")
        assert first == again
        assert first.startswith("projects/acme-analytics/locations/europe-west4/datasets/")
        assert fake_vertex.calls["CreateDataset"] == 1
        with pytest.raises(WarehouseError, match="no Vertex AI region"):
            steps.register_dataset.python_func(DATASET, "")


def test_an_environment_without_a_dataset_loads_nothing(fake_bq, gcs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the default runs/warehouse.duckdb would appear
    preds = upload(gcs, "runs/s1/predictions", data.committed_parquet(data.predictions_table(3)))
    assert load_predictions("", preds, "score-1") == 0
    counts = steps.load_training_results.python_func(
        bq_dataset="", pipeline_job="t", version_uri=preds, prepared_uri=preds, **TRAINING_ARGS
    )
    assert counts == "{}"
    assert not (tmp_path / "runs").exists() and fake_bq.calls == {}


def test_a_bad_bq_dataset_is_refused_with_its_name():
    with pytest.raises(WarehouseError, match=r"'nodot' is not 'project\.dataset'"):
        load_predictions("nodot", "gs://b/p", "score-1")


def test_the_steps_run_under_kfp_local(tmp_path):
    """Compiled and run by KFP's own local runner, as run.py runs the pipelines."""
    import warnings

    from kfp import dsl, local

    # The components image is what Vertex AI runs; this interpreter has the same code.
    warnings.filterwarnings("ignore", message="You may be attemping to run a task that uses")
    preds = data.write_local(tmp_path / "p", data.committed_parquet(data.predictions_table(11)))
    data.write_local(tmp_path / "prep", data.committed_parquet(data.prepared_table(5)))
    version = _version_folder(tmp_path / "v")
    db = tmp_path / "warehouse.duckdb"
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "kfp"))

    @dsl.pipeline(name="warehouse-steps")
    def pipeline(bq_dataset: str, preds: str, version: str, prep: str):
        job = dsl.PIPELINE_JOB_NAME_PLACEHOLDER
        model = dsl.importer(artifact_uri=version, artifact_class=dsl.Model, reimport=False)
        load_predictions = steps.load_predictions(
            bq_dataset=bq_dataset, predictions_uri=preds, pipeline_job=job, model=model.output
        )
        training = steps.load_training_results(
            bq_dataset=bq_dataset, pipeline_job=job, version_uri=version, prepared_uri=prep,
            **TRAINING_ARGS,
        )  # fmt: skip
        steps.register_dataset(bq_dataset=bq_dataset, region="europe-west4").after(
            training, load_predictions
        )

    pipeline(
        bq_dataset=f"duckdb:{db}", preds=str(preds), version=version, prep=str(tmp_path / "prep")
    )
    store = DuckDBWarehouse(db)
    ((job, rows),) = store.query("SELECT pipeline_job, count(*) FROM predictions GROUP BY 1")
    assert rows == 11 and job.startswith("warehouse-steps-")
    assert store.query("SELECT pipeline_job FROM model_metrics") == [(job,)]
