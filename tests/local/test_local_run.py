"""The local template end to end through kfp.local on small generated data (local Spark).

One Spark Connect server per run (local/spark_server.py) serves every Spark step; run.py
itself (as `make run`) keeps its server warm for the next run (local/kept_spark.py), and the
gate-failing run uses a JVM per step, so every way stays working.
"""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import kept_spark, local_run, report

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def customers(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "spark/sample_data.py"),
            "--rows=600",
            "--seed=7",
            f"--output={path}",
        ],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("runs")
    yield path
    # run.py keeps its Spark server for the next run: nothing of a test outlives it
    for state in path.rglob(f"{kept_spark.DIR_NAME}/{kept_spark.STATE_FILE}"):
        kept_spark.stop(state.parent.parent)


def run_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def passed_run(customers, runs) -> local_run.RunResult:
    return local_run.run_pipeline(
        "churn-training",
        ["gate_threshold=0.0", "tune_folds=2"],
        runs_dir=runs,
        run_id="gate-passes",
        options=local_run.RunOptions(data=customers),
    )


def test_gate_passing_runs_tuning_and_names_the_winner(passed_run):
    assert passed_run.outputs["gate_passed"] is True
    assert passed_run.outputs["model_source"] in {"base", "tuned"}
    steps = passed_run.steps
    tuning = ("tune", "evaluate-tuned", "select-model")  # the tuning sub-pipeline's steps
    for name in ("prepare-run", "preprocess", "train", "evaluate", *tuning):
        assert steps[name].status == "SUCCESS" and steps[name].seconds > 0, name
    # each Spark step's figure is its job's own summary line
    assert steps["preprocess"].figure.startswith("600 rows")
    assert "auc_roc" in steps["train"].figure and "passed=True" in steps["evaluate"].figure
    assert "auc_roc" in steps["tune"].figure and "source=" in steps["select-model"].figure
    metrics = report.load_metrics(passed_run.outputs["model_uri"])  # a registry version
    assert 0.5 < metrics["auc_roc"] <= 1.0 and metrics["column_importances"]
    # every step's output went to its own log, none to the terminal
    logs = passed_run.run_dir / "logs"
    assert "summary: 600 rows" in (logs / "preprocess.log").read_text()
    # steps inside the tuning sub-pipeline log under their own names, not under an outer step's
    # (kfp.local names tasks by component; a sub-pipeline's task keys repeat the outer ones)
    assert "spark job 'tune' finished" in (logs / "tune.log").read_text()
    assert re.search(r'"model_dir": "[^"]*/train"', (logs / "evaluate.log").read_text())
    assert re.search(r'"model_dir": "[^"]*/tune"', (logs / "evaluate-tuned.log").read_text())
    assert re.search(r'"tuned_dir": "[^"]*/tune"', (logs / "select-model.log").read_text())
    assert "spark connect server ready" in (logs / "spark-server.log").read_text()
    saved = json.loads((passed_run.run_dir / "outputs.json").read_text())
    assert saved["outputs"] == passed_run.outputs


def test_local_deployment_values_are_set_by_the_run_not_the_user(passed_run, runs, customers):
    used = passed_run.parameters
    assert used["environment"] == "local"
    assert used["data_uri"] == str(customers.parent) and used["raw_data_path"] == customers.name
    assert used["models_uri"] == str((runs / "models").resolve())
    assert used["spark_code_uri"] == str(ROOT / "spark")


def test_gate_failing_skips_tuning_with_a_jvm_per_step(customers, runs):
    result = local_run.run_pipeline(
        "churn-training",
        ["gate_metric=auc_roc", "gate_threshold=0.999"],
        runs_dir=runs,
        run_id="gate-fails",
        options=local_run.RunOptions(data=customers, spark="step"),
    )
    assert result.outputs["gate_passed"] is False
    assert result.outputs["model_source"] == "base"
    assert "tune" not in result.steps
    assert not (result.run_dir / "logs" / "spark-server.log").exists()


def test_scoring_pipeline_scores_with_the_registry_champion(passed_run, runs):
    result = local_run.run_pipeline("churn-scoring", [], runs_dir=runs, run_id="scoring")
    predictions = Path(result.outputs["predictions_uri"])
    assert predictions.exists() and any(predictions.rglob("*.parquet"))
    assert (result.run_dir / "data" / "new_customers.csv").exists()  # the declared sample


def test_run_py_prints_a_short_account_and_an_html_report(passed_run, runs, customers):
    args = ["churn-training", f"--data={customers}", "--param=gate_threshold=0.999"]
    done = run_py(*args, f"--runs-dir={runs / 'cli'}")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) < 40, done.stdout
    assert any(line.strip().startswith("preprocess") and "600 rows" in line for line in lines)
    assert "auc_roc" in done.stdout and "top columns:" in done.stdout
    html = Path(next(line for line in lines if line.startswith("report: ")).split()[1])
    assert html.name == "report.html" and "data:image/png;base64," in html.read_text()
    assert "executor_input" not in done.stdout and "WARN" not in done.stdout
    started = next(line for line in lines if "spark (started, kept)" in line)
    remote = next(word for word in started.split() if word.startswith("sc://"))
    # a second run compares itself with the first, on the Spark server the first one kept
    again = run_py(*args, f"--runs-dir={runs / 'cli'}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "change vs churn-training-" in again.stdout
    reused = next(line for line in again.stdout.splitlines() if "spark (kept warm)" in line)
    assert remote in reused


def test_a_failing_step_names_itself_its_error_and_its_log(customers, runs, tmp_path):
    # a value only Spark's validation pass sees (the header is fine): preprocess fails in Spark
    lines = customers.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("Contract")] = "Forever"
    bad = tmp_path / "bad_contract.csv"
    bad.write_text("\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n")
    done = run_py("churn-training", f"--data={bad}", f"--runs-dir={runs / 'f'}")
    assert done.returncode == 1
    assert "step 'preprocess' failed" in done.stderr
    assert "Contract" in done.stderr and "Forever" in done.stderr
    log = Path(done.stderr.split("full log: ")[1].split()[0])
    assert log.name == "preprocess.log" and log.exists()
    assert "\tat " not in done.stderr  # no Java stack


def test_bad_parameters_fail_before_anything_runs(runs):
    done = run_py(
        "churn-training",
        "--param",
        "gate_threshold=high",
        "--param",
        "classifer=gbt",
        "--param",
        "tune_folds=1",
        f"--runs-dir={runs / 'bad'}",
    )
    assert done.returncode == 1
    assert "--param gate_threshold" in done.stderr and "expected number" in done.stderr
    assert "did you mean 'classifier'?" in done.stderr
    assert "--param tune_folds" in done.stderr  # held to the documented range
    assert not (runs / "bad").exists()


@pytest.mark.parametrize("name", ["data_uri", "spark_code_uri", "models_uri", "environment"])
def test_deployment_owned_parameters_are_refused(runs, name):
    done = run_py("churn-training", f"--param={name}=/elsewhere", f"--runs-dir={runs / 'dep'}")
    assert done.returncode == 1
    assert f"--param {name}: belongs to the deployment" in done.stderr
    assert not (runs / "dep").exists()


def test_data_must_exist_and_not_be_given_twice(runs, customers):
    missing = run_py("churn-training", "--data=/no/such.csv", f"--runs-dir={runs / 'x'}")
    assert missing.returncode == 1 and "--data /no/such.csv: no such file" in missing.stderr
    both = run_py(
        "churn-training",
        f"--data={customers}",
        "--param=raw_data_path=a.csv",
        f"--runs-dir={runs / 'x'}",
    )
    assert both.returncode == 1 and "give one" in both.stderr
    unsafe = run_py("churn-training", "--param=raw_data_path=../a.csv", f"--runs-dir={runs / 'x'}")
    assert unsafe.returncode == 1 and "raw_data_path" in unsafe.stderr
    assert not (runs / "x").exists()
