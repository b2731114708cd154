"""The registry's pipeline steps (their Python bodies), on gs:// through the storage API."""

from __future__ import annotations

import json

import pytest
from kfp import dsl

from components.registry_steps import (
    promote_if_better,
    register_model,
    resolve_champion,
    resolve_model,
)
from model_registry import NotFoundError
from tests.committed import committed_files

from .conftest import MODELS_BUCKET, WORK_BUCKET, Backend

MODELS = f"gs://{MODELS_BUCKET}/registry"


@pytest.fixture
def gcs_backend(gcs) -> Backend:
    return Backend("gcs", MODELS, f"gs://{WORK_BUCKET}/runs", client=gcs)


def register(backend, job: str, auc_pr: float) -> tuple[str, dsl.Model]:
    model = dsl.Model(name="model", uri=f"gs://{WORK_BUCKET}/root/{job}/model", metadata={})
    out = register_model.python_func(
        models_uri=MODELS,
        model_name="churn",
        model_dir=backend.trained(f"{job}/train", auc_pr),
        pipeline_job=job,
        training_data_uri="gs://acme-data/raw/latest.csv",
        spark_code_uri="gs://acme-templates/v1.2.0/spark",
        environment="dev",
        training_data=dsl.Dataset(name="prepared", uri=f"gs://{WORK_BUCKET}/{job}/prep/data"),
        model=model,
    )
    return out.version, model


def champion_scored(backend, job: str, auc_pr: float | None) -> str:
    uri = f"gs://{WORK_BUCKET}/runs/{job}/champion"
    body = (
        {"scored": True, "auc_pr": auc_pr}
        if auc_pr is not None
        else {
            "scored": False,
            "problem": "column tenure_band missing",
        }
    )
    files = committed_files({"metrics.json": json.dumps(body).encode()}, job="evaluate_champion")
    for rel, data in files.items():
        backend.client.bucket(WORK_BUCKET).blob(f"runs/{job}/champion/{rel}").upload_from_string(
            data
        )
    return uri


def decide(version: str, champion, job: str, metrics_dir: str, margin: float = 0.0):
    comparison = dsl.Metrics(name="comparison", uri=f"gs://{WORK_BUCKET}/m/{job}", metadata={})
    out = promote_if_better.python_func(
        models_uri=MODELS,
        model_name="churn",
        challenger_version=version,
        gate_metric="auc_pr",
        gate_threshold=0.6,
        promotion_margin=margin,
        champion_version=champion.version,
        champion_generation=champion.generation,
        champion_metrics_dir=metrics_dir,
        pipeline_job=job,
        challenger=dsl.Model(name="model", uri=f"{MODELS}/churn/versions/{version}"),
        comparison=comparison,
    )
    return out, comparison


def test_register_points_the_model_artifact_at_the_version_with_lineage(gcs_backend):
    version, model = register(gcs_backend, "job-1", 0.65)
    assert model.uri == f"{MODELS}/churn/versions/{version}"
    assert model.metadata["framework"] == "spark-mllib"
    assert model.metadata["version"] == version
    assert model.metadata["metrics"]["auc_pr"] == 0.65


def test_first_model_then_worse_then_better_challengers(gcs_backend):
    v1, _ = register(gcs_backend, "job-1", 0.65)
    none = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    assert (none.version, none.generation) == ("", "0")
    first, metrics = decide(v1, none, "job-1", "")
    assert first.promoted and first.champion_version == v1
    assert metrics.metadata["challenger_auc_pr"] == 0.65 and metrics.metadata["promoted"] == 1.0

    v2, _ = register(gcs_backend, "job-2", 0.66)
    champ = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    assert champ.version == v1 and champ.version_uri.endswith(v1)
    kept, metrics = decide(v2, champ, "job-2", champion_scored(gcs_backend, "job-2", 0.70))
    assert not kept.promoted and kept.champion_version == v1
    assert (kept.challenger_value, kept.champion_value) == (0.66, 0.70)
    assert "stays" in kept.decision and metrics.metadata["champion_auc_pr"] == 0.70

    v3, _ = register(gcs_backend, "job-3", 0.75)
    champ = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    within, _ = decide(v3, champ, "job-3", champion_scored(gcs_backend, "job-3", 0.70), 0.1)
    assert not within.promoted  # 0.05 better, margin 0.1
    won, _ = decide(v3, champ, "job-3b", champion_scored(gcs_backend, "job-3b", 0.70), 0.01)
    assert won.promoted and won.champion_version == v3


def test_a_champion_moved_meanwhile_is_not_overwritten_and_the_step_says_why(gcs_backend):
    v1, _ = register(gcs_backend, "job-1", 0.65)
    v2, _ = register(gcs_backend, "job-2", 0.70)
    stale = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    gcs_backend.registry().promote("churn", v1, moved_by="oncall", reason="manual")
    out, metrics = decide(v2, stale, "job-2", "")
    assert not out.promoted and out.champion_version == v1
    assert "moved meanwhile" in out.decision and "oncall" in out.decision
    assert metrics.metadata["promoted"] == 0.0


def test_an_unscorable_champion_leaves_the_decision_to_the_gate(gcs_backend):
    v1, _ = register(gcs_backend, "job-1", 0.65)
    gcs_backend.registry().promote("churn", v1)
    v2, _ = register(gcs_backend, "job-2", 0.62)
    champ = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    out, _ = decide(v2, champ, "job-2", champion_scored(gcs_backend, "job-2", None))
    assert out.promoted and "could not be scored (column tenure_band missing)" in out.decision


def test_scoring_resolves_alias_or_pinned_version_once(gcs_backend):
    v1, _ = register(gcs_backend, "job-1", 0.65)
    v2, _ = register(gcs_backend, "job-2", 0.70)
    gcs_backend.registry().promote("churn", v2)
    artifact = dsl.Model(name="scoring_model", uri="gs://x/y", metadata={})
    out = resolve_model.python_func(
        models_uri=MODELS, model="churn@champion", scoring_model=artifact
    )
    assert (out.version, out.model_uri, artifact.uri) == (v2, artifact.uri, out.model_uri)
    assert artifact.metadata["requested"] == "churn@champion"
    pinned = resolve_model.python_func(
        models_uri=MODELS, model=f"churn@{v1}", scoring_model=dsl.Model(name="m", uri="gs://x/z")
    )
    assert pinned.version == v1
    with pytest.raises(NotFoundError, match="alias 'staging' is not set"):
        resolve_model.python_func(
            models_uri=MODELS, model="churn@staging", scoring_model=dsl.Model(name="m", uri="")
        )


def test_a_champion_evaluation_that_was_not_committed_stops_the_decision(gcs_backend):
    v1, _ = register(gcs_backend, "job-1", 0.65)
    gcs_backend.registry().promote("churn", v1)
    v2, _ = register(gcs_backend, "job-2", 0.90)
    champ = resolve_champion.python_func(models_uri=MODELS, model_name="churn")
    # what a killed evaluate-champion leaves: its file, but no manifest naming it
    bucket = gcs_backend.client.bucket(WORK_BUCKET)
    attempt = "runs/job-2/champion/attempt-20261130t020000z-0000dead"
    bucket.blob(f"{attempt}/metrics.json").upload_from_string(b'{"scored": true, "auc_pr": 0.1}')
    with pytest.raises(FileNotFoundError, match="not the champion's evaluation: there is no"):
        decide(v2, champ, "job-2", f"gs://{WORK_BUCKET}/runs/job-2/champion")
    assert gcs_backend.registry().alias("churn", "champion").version == v1  # nothing moved
