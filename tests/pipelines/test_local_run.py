"""The local template end to end through kfp.local on small generated data (local Spark)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tooling import local_run

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def customers(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "spark/sample_data.py"),
            "--rows",
            "600",
            "--seed",
            "7",
            "--output",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def passed_run(customers, runs) -> local_run.RunResult:
    return local_run.run_pipeline(
        "churn-training",
        [
            f"raw_data_uri={customers}",
            "gate_threshold=0.0",
            "tune_folds=2",
            f"promote_to_uri={runs / 'models' / 'current'}",
        ],
        runs_dir=runs,
        run_id="gate-passes",
    )


def test_gate_passing_runs_tuning_and_names_the_winner(passed_run):
    assert passed_run.outputs["gate_passed"] is True
    assert passed_run.outputs["model_source"] in {"base", "tuned"}
    assert {
        "prepare-run",
        "preprocess",
        "train",
        "evaluate",
        "tune",
        "evaluate-tuned",
        "select-model",
    } <= set(passed_run.step_seconds)
    model_dir = Path(passed_run.outputs["model_uri"])
    assert model_dir.name == ("tune" if passed_run.outputs["model_source"] == "tuned" else "train")
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert 0.5 < metrics["auc_roc"] <= 1.0
    assert (model_dir / "model").is_dir()
    assert (model_dir.parent / "tune" / "metrics.json").exists()
    saved = json.loads((passed_run.run_dir / "outputs.json").read_text())
    assert saved["outputs"] == passed_run.outputs


def test_a_passing_gate_promotes_the_winner_to_the_stable_folder(passed_run, runs):
    promoted = Path(passed_run.outputs["promoted_uri"])
    assert promoted == runs / "models" / "current"
    winner = Path(passed_run.outputs["model_uri"])
    assert (promoted / "metrics.json").read_bytes() == (winner / "metrics.json").read_bytes()
    assert (promoted / "model_meta.json").exists() and (promoted / "model").is_dir()


def test_gate_failing_skips_tuning(customers, runs):
    result = local_run.run_pipeline(
        "churn-training",
        [
            f"raw_data_uri={customers}",
            "gate_metric=auc_roc",
            "gate_threshold=1.01",
            f"promote_to_uri={runs / 'models' / 'never'}",
        ],
        runs_dir=runs,
        run_id="gate-fails",
    )
    assert result.outputs["gate_passed"] is False
    assert result.outputs["model_source"] == "base"
    assert "tune" not in result.step_seconds and "keep-base-model" in result.step_seconds
    model_dir = Path(result.outputs["model_uri"])
    assert model_dir.name == "train" and not (model_dir.parent / "tune").exists()
    assert result.outputs["promoted_uri"] == "" and not (runs / "models" / "never").exists()


def test_scoring_pipeline_scores_with_the_trained_model(passed_run, runs):
    result = local_run.run_pipeline(
        "churn-scoring",
        [f"model_uri={passed_run.outputs['promoted_uri']}"],  # scoring reads the promoted copy
        runs_dir=runs,
        run_id="scoring",
    )
    predictions = Path(result.outputs["predictions_uri"])
    assert predictions.exists() and any(predictions.rglob("*.parquet"))


def test_run_py_prints_metrics_and_writes_a_report(passed_run, runs, customers):
    done = subprocess.run(
        [
            sys.executable,
            "run.py",
            "churn-training",
            "--param",
            f"raw_data_uri={customers}",
            "--param",
            "gate_threshold=2",
            "--runs-dir",
            str(runs / "cli"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "auc_roc" in done.stdout and "report: " in done.stdout
    report = Path(done.stdout.split("report: ")[1].strip())
    for name in ("report.md", "roc.png", "pr.png", "confusion.png", "metrics.json"):
        assert (report.parent / name).stat().st_size > 0, name
    assert (report.parent / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = report.read_text()
    assert "| auc_roc |" in text and "![ROC curve](roc.png)" in text


def test_bad_parameters_fail_before_anything_runs(runs):
    done = subprocess.run(
        [
            sys.executable,
            "run.py",
            "churn-training",
            "--param",
            "gate_threshold=high",
            "--param",
            "classifer=gbt",
            "--runs-dir",
            str(runs / "bad"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "--param gate_threshold: expected number" in done.stderr
    assert "did you mean 'classifier'?" in done.stderr
    assert not (runs / "bad").exists()
