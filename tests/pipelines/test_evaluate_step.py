"""The evaluate step reads metrics.json through the Cloud Storage API (GCS emulator)."""

import json

import pytest
from google.cloud import storage
from kfp import dsl

from components.evaluate import evaluate
from fakes.gcs import gcs_emulator

BUCKET = "acme-churn-test-pipelines"
METRICS = {
    "auc_roc": 0.84,
    "auc_pr": 0.62,
    "log_loss": 0.43,
    "confusion_matrix": {"labels": [0, 1], "matrix": [[900, 100], [150, 250]]},
    "roc_curve": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.8, 1.0], "thresholds": [1, 0.5, 0]},
}


@pytest.fixture(scope="module")
def run_folder():
    with gcs_emulator(buckets=(BUCKET,)):
        # only the object itself: no folder placeholder objects, as a Spark writer may leave it
        key = "runs/123/job-1/prepare-run/workspace/train/metrics.json"
        client = storage.Client(project="test-project")
        client.bucket(BUCKET).blob(key).upload_from_string(json.dumps(METRICS))
        yield f"gs://{BUCKET}/runs/123/job-1/prepare-run/workspace/train"


def test_evaluate_reads_gs_metrics_without_the_fuse_mount_and_applies_the_gate(run_folder):
    metrics, classification = dsl.Metrics(uri="unused"), dsl.ClassificationMetrics(uri="unused")
    gate = evaluate.python_func(
        model_dir=run_folder,
        gate_metric="auc_pr",
        gate_threshold=0.6,
        metrics=metrics,
        classification=classification,
    )
    assert gate.value == pytest.approx(0.62) and gate.passed is True
    assert metrics.metadata["auc_roc"] == pytest.approx(0.84)
    assert classification.metadata["confusionMatrix"]["rows"][1]["row"] == [150, 250]


def test_lower_is_better_metrics_gate_the_other_way(run_folder):
    gate = evaluate.python_func(
        model_dir=run_folder,
        gate_metric="log_loss",
        gate_threshold=0.40,
        metrics=dsl.Metrics(uri="unused"),
        classification=dsl.ClassificationMetrics(uri="unused"),
    )
    assert gate.passed is False  # 0.43 is worse than a 0.40 ceiling


def test_a_folder_without_metrics_is_a_clear_error(run_folder):
    with pytest.raises(FileNotFoundError, match=r"metrics\.json: the job wrote no metrics"):
        evaluate.python_func(
            model_dir=run_folder + "/nothing",
            gate_metric="auc_pr",
            gate_threshold=0.5,
            metrics=dsl.Metrics(uri="unused"),
            classification=dsl.ClassificationMetrics(uri="unused"),
        )
