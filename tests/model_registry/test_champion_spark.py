"""A real Spark model through the registry: registered, then scored as champion on the same split.

One local Spark session (shared with the job scripts via churn.session), a few hundred rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_registry import open_registry
from tests.committed import listed

ROOT = Path(__file__).resolve().parents[2]
SPARK = ROOT / "spark"
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_jobs():
    os.environ.pop("SPARK_REMOTE", None)
    if str(SPARK) not in sys.path:
        sys.path.insert(0, str(SPARK))
    import evaluate_champion
    import preprocess
    import sample_data
    import train

    return sample_data, preprocess, train, evaluate_champion


@pytest.fixture(scope="module")
def trained(spark_jobs, tmp_path_factory) -> tuple[Path, Path]:
    sample_data, preprocess, train, _ = spark_jobs
    work = tmp_path_factory.mktemp("champion")
    raw = work / "raw.csv"
    assert sample_data.main(["--rows", "400", "--seed", "5", "--output", str(raw)]) == 0
    assert preprocess.main(["--input", str(raw), "--output", str(work / "prep")]) == 0
    args = ["--input", str(work / "prep"), "--output", str(work / "train"), "--classifier", "lr"]
    assert train.main([*args, "--seed", "11"]) == 0
    return work / "prep", work / "train"


def test_the_champion_scores_exactly_its_own_figures_on_the_same_split(
    spark_jobs, trained, tmp_path
):
    *_, evaluate_champion = spark_jobs
    prepared, train_dir = trained
    registry = open_registry(str(tmp_path / "models"))
    info = registry.register("churn", str(train_dir), pipeline_job="job-1")
    out = tmp_path / "champion"
    code = evaluate_champion.main(
        ["--model", info.uri, "--input", str(prepared), "--output", str(out), "--seed", "11"]
    )
    assert code == 0
    scored = json.loads(listed(out, "metrics.json").read_text())
    trained_metrics = json.loads(listed(train_dir, "metrics.json").read_text())
    assert scored["scored"] is True
    for key in ("auc_pr", "auc_roc", "log_loss", "confusion_matrix"):
        assert scored[key] == trained_metrics[key], key
    # A different split gives different figures: the seed really selects the rows.
    other = tmp_path / "other"
    assert (
        evaluate_champion.main(
            ["--model", info.uri, "--input", str(prepared), "--output", str(other), "--seed", "3"]
        )
        == 0
    )
    assert (
        json.loads(listed(other, "metrics.json").read_text())["auc_pr"] != trained_metrics["auc_pr"]
    )


def test_the_registered_version_scores_customers_and_names_itself(trained, tmp_path):
    _, train_dir = trained
    registry = open_registry(str(tmp_path / "models"))
    info = registry.register("churn", str(train_dir), pipeline_job="job-2")
    registry.promote("churn", info.version)
    customers = tmp_path / "new.csv"
    run = [sys.executable, str(SPARK / "sample_data.py"), "--rows", "50", "--seed", "9"]
    subprocess.run([*run, "--scoring", "--output", str(customers)], check=True)
    resolved = registry.resolve("churn@champion")
    done = subprocess.run(
        [
            sys.executable,
            str(SPARK / "score.py"),
            "--model",
            resolved.uri,
            "--input",
            str(customers),
            "--output",
            str(tmp_path / "pred"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SPARK)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    assert result["model_version"] == info.version
    assert result["rows_scored"] == 50
