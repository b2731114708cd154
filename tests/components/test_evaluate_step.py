"""The evaluate step reads metrics.json through the Cloud Storage API (GCS emulator): the one
the train/tune output's manifest lists, or a refusal naming the folder."""

import json

import pytest
from google.cloud import storage
from kfp import dsl

from components.evaluate import evaluate
from contract.outputs import OutputMismatchError
from fakes.gcs import gcs_emulator
from tests.committed import ROOT, committed_files

BUCKET = "acme-churn-test-pipelines"
METRICS = {
    "auc_roc": 0.84,
    "auc_pr": 0.62,
    "log_loss": 0.43,
    "confusion_matrix": {"labels": [0, 1], "matrix": [[900, 100], [150, 250]]},
    "roc_curve": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.8, 1.0], "thresholds": [1, 0.5, 0]},
}


PREFIX = "runs/123/job-1/prepare-run/workspace"


def upload(name: str, files: dict[str, bytes]) -> str:
    """`files` as objects under the run's working folder; the output folder's URI."""
    bucket = storage.Client(project="test-project").bucket(BUCKET)
    for rel, data in files.items():
        bucket.blob(f"{PREFIX}/{name}/{rel}").upload_from_string(data)
    return f"gs://{BUCKET}/{PREFIX}/{name}"


@pytest.fixture(scope="module")
def emulator():
    with gcs_emulator(buckets=(BUCKET,)):
        yield


@pytest.fixture(scope="module")
def run_folder(emulator):
    # only the objects themselves: no folder placeholder objects, as a Spark writer may leave it
    return upload("train", committed_files({"metrics.json": json.dumps(METRICS).encode()}))


def gate(model_dir: str, metric: str = "auc_pr", threshold: float = 0.6):
    return evaluate.python_func(
        model_dir=model_dir,
        gate_metric=metric,
        gate_threshold=threshold,
        metrics=dsl.Metrics(uri="unused"),
        classification=dsl.ClassificationMetrics(uri="unused"),
    )


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


def test_a_stale_metrics_file_beside_the_committed_one_is_not_read(emulator):
    files = committed_files({"metrics.json": json.dumps(METRICS).encode()})
    files["metrics.json"] = json.dumps({**METRICS, "auc_pr": 0.99}).encode()  # at the top
    files["attempt-20000101t000000z-deadbeef/metrics.json"] = files["metrics.json"]
    assert gate(upload("stale", files)).value == pytest.approx(0.62)


@pytest.mark.parametrize(
    ("damage", "message"),
    [("missing", "metrics.json is missing"), ("truncated", "metrics.json has 10 bytes")],
)
def test_a_damaged_output_is_refused_naming_the_folder(emulator, damage, message):
    files = committed_files({"metrics.json": json.dumps(METRICS).encode()})
    if damage == "missing":
        del files[f"{ROOT}/metrics.json"]
    else:
        files[f"{ROOT}/metrics.json"] = b'{"auc_pr":'
    folder = upload(f"damaged-{damage}", files)
    with pytest.raises(OutputMismatchError, match=message) as caught:
        gate(folder)
    assert str(caught.value).startswith(f"{folder}: its files do not match its manifest.json")
