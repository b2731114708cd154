"""End to end in one process: generate -> preprocess -> train -> tune -> score on a few hundred
rows, through the job scripts' own main() functions and the shared Spark session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import preprocess
import pytest
import sample_data
import score
import train
import tune
from churn.features import CLASSIFIERS

from tests.committed import listed, listed_parquet

pytestmark = pytest.mark.spark

METRIC_FLOATS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")


def run_script(main, args: list[str], capsys) -> tuple[int, dict, str]:
    """Run a script's main() in-process; return exit code, its JSON stdout and stderr."""
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    # the JSON result, then the one-line summary run.py shows for the step (churn.cli)
    body, _, summary = out.partition("\nsummary: ")
    assert code != 0 or summary.strip(), out[-500:]
    return code, (json.loads(body) if code == 0 else {}), err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(scope="module")
def prepared(spark, workdir: Path) -> Path:
    raw = workdir / "raw.csv"
    assert sample_data.main(["--rows", "400", "--seed", "3", "--output", str(raw)]) == 0
    assert preprocess.main(["--input", str(raw), "--output", str(workdir / "prep")]) == 0
    return workdir / "prep"


def check_metrics(metrics: dict, n_rows: int) -> None:
    for key in METRIC_FLOATS:
        assert isinstance(metrics[key], float), key
    assert 0.5 < metrics["auc_roc"] <= 1.0
    assert metrics["n_train"] + metrics["n_test"] == n_rows
    cm = metrics["confusion_matrix"]
    assert cm["labels"] == ["No", "Yes"]
    assert sum(map(sum, cm["matrix"])) == metrics["n_test"]
    for curve, keys in (("roc_curve", ("fpr", "tpr")), ("pr_curve", ("recall", "precision"))):
        lengths = {len(metrics[curve][k]) for k in (*keys, "thresholds")}
        assert len(lengths) == 1
        assert 2 <= lengths.pop() <= 200
    top = metrics["feature_importances"]
    assert 1 <= len(top) <= 15
    assert all(set(t) == {"feature", "importance"} for t in top)
    assert isinstance(metrics["params"], dict)


def test_preprocess_writes_parquet_and_report(spark, prepared: Path) -> None:
    report = json.loads(listed(prepared, "report.json").read_text())
    assert report["rows_read"] == report["rows_written"] == 400
    assert report["rows_dropped"] == 0
    df = spark.read.parquet(*listed_parquet(prepared))
    assert df.count() == 400
    assert "tenure_band" in df.columns
    assert "customer_id" in df.columns
    assert not [p for p in os.listdir(prepared.parent) if p.startswith(".")]


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_train_each_classifier(prepared: Path, workdir: Path, capsys, classifier: str) -> None:
    out = workdir / f"train_{classifier}"
    code, printed, err = run_script(
        train.main,
        [
            "--input",
            str(prepared),
            "--output",
            str(out),
            "--classifier",
            classifier,
            "--model-version",
            f"v-{classifier}",
        ],
        capsys,
    )
    assert code == 0, err
    metrics = json.loads(listed(out, "metrics.json").read_text())
    assert printed == metrics
    check_metrics(metrics, 400)
    assert metrics["params"]["classifier"] == classifier
    meta = json.loads(listed(out, "model_meta.json").read_text())
    assert meta["model_version"] == f"v-{classifier}"
    assert meta["classifier"] == classifier
    assert [c["name"] for c in meta["input_columns"]][:2] == ["customerID", "gender"]
    assert meta["spark_version"]
    assert listed(out, "model/metadata").is_dir()


def test_tune_cross_validates_two_families(prepared: Path, workdir: Path, capsys) -> None:
    out = workdir / "tune"
    code, metrics, err = run_script(
        tune.main,
        [
            "--input",
            str(prepared),
            "--output",
            str(out),
            "--folds",
            "2",
            "--grid",
            "lr.regParam=0.01,0.1",
            "--grid",
            "lr.elasticNetParam=0.5",
            "--grid",
            "gbt.maxDepth=2",
            "--grid",
            "gbt.maxIter=5",
        ],
        capsys,
    )
    assert code == 0, err
    check_metrics(metrics, 400)
    assert metrics["params"]["classifier"] in ("lr", "gbt")
    candidates = metrics["cv"]["candidates"]
    assert [c["classifier"] for c in candidates] == ["lr", "lr", "gbt"]
    best = candidates[metrics["cv"]["best_index"]]
    # successive halving: the winner is the best mean among those scored on every fold
    finalists = [c for c in candidates if c["folds_scored"] == 2]
    assert best in finalists and best["auc_roc"] == max(c["auc_roc"] for c in finalists)
    assert all(metrics["params"][k] == v for k, v in best["params"].items())
    assert json.loads(listed(out, "model_meta.json").read_text())["job"] == "tune"


def test_score_new_customers(spark, prepared: Path, workdir: Path, capsys) -> None:
    new = workdir / "new.csv"
    assert sample_data.main(["--rows", "50", "--seed", "9", "--output", str(new), "--scoring"]) == 0
    out = workdir / "scores"
    args = ["--model", str(workdir / "train_rf"), "--input", str(new), "--output", str(out)]
    code, summary, err = run_script(score.main, args, capsys)
    assert code == 0, err
    assert summary["rows_scored"] == 50
    preds = spark.read.parquet(*listed_parquet(out))
    assert preds.columns == ["customer_id", "churn_probability", "predicted_label", "model_version"]
    rows = preds.collect()
    assert len(rows) == 50
    assert {r["model_version"] for r in rows} == {"v-rf"}
    assert {r["predicted_label"] for r in rows} <= {"Yes", "No"}
    assert all(0.0 <= r["churn_probability"] <= 1.0 for r in rows)
    # the labelled training file scores too (its Churn column is ignored)
    code, summary, err = run_script(
        score.main,
        [
            "--model",
            str(workdir / "train_rf"),
            "--input",
            str(workdir / "raw.csv"),
            "--output",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    assert spark.read.parquet(*listed_parquet(out)).count() == 400  # previous result replaced
    assert len([p for p in os.listdir(out) if p.startswith("attempt-")]) == 1  # old one removed


def test_bad_values_fail_without_output(prepared: Path, workdir: Path, capsys) -> None:
    raw = (workdir / "raw.csv").read_text().splitlines()
    raw[7] = raw[7].rsplit(",", 1)[0] + ",Maybe"
    bad = workdir / "bad_churn.csv"
    bad.write_text("\n".join(raw) + "\n")
    out = workdir / "bad_out"
    code, _, err = run_script(preprocess.main, ["--input", str(bad), "--output", str(out)], capsys)
    assert code == 2
    assert "column Churn: 1 bad value(s), e.g. 'Maybe'" in err
    assert not out.exists()
    assert not [p for p in os.listdir(workdir) if p.startswith(".")]


def test_train_rejects_a_directory_that_is_not_a_preprocess_output(
    workdir: Path,
    capsys,
) -> None:
    out = workdir / "never"
    code, _, err = run_script(
        train.main, ["--input", str(workdir / "raw.csv"), "--output", str(out)], capsys
    )
    assert code == 2
    assert "not a preprocess output" in err
    assert not out.exists()
