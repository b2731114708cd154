"""The real scripts as subprocesses: exit codes, messages on stderr, nothing left at --output.

Most bad inputs are caught before a JVM starts (header checks), so these run in about a second;
one test goes through spark-submit and a value check inside Spark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from churn.schema import raw_columns_spec

from tests.committed import write_committed
from tests.spark.churn_test_helpers import raw_row, write_csv

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``spark/<script>`` with the venv's Python."""
    return subprocess.run(
        [PYTHON, str(REPO / "spark" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )


def assert_failed_cleanly(proc: subprocess.CompletedProcess[str], out: Path, *fragments: str):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr
    assert not out.exists()
    assert not [p for p in os.listdir(out.parent) if p.startswith(f".{out.name}.tmp")]


def test_sample_data_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        proc = run("sample_data.py", "--rows", "200", "--seed", "4", "--output", str(path))
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["rows"] == 200
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().count("\n") == 201


def test_missing_column(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "in.csv", [raw_row()])
    lines = src.read_text().replace(",MonthlyCharges", "").splitlines()
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    proc = run("preprocess.py", "--input", str(src), "--output", str(out))
    assert_failed_cleanly(proc, out, str(src), "missing column(s) MonthlyCharges")


def test_empty_file(tmp_path: Path) -> None:
    src = tmp_path / "empty.csv"
    src.write_bytes(b"")
    out = tmp_path / "out"
    proc = run("preprocess.py", "--input", str(src), "--output", str(out))
    assert_failed_cleanly(proc, out, "empty.csv: the input file is empty")


def test_garbage_bytes(tmp_path: Path) -> None:
    src = tmp_path / "garbage.csv"
    src.write_bytes(bytes(range(256)) * 20)
    out = tmp_path / "out"
    proc = run("preprocess.py", "--input", str(src), "--output", str(out))
    assert_failed_cleanly(proc, out, "garbage.csv: this is not a text CSV file")


def test_score_file_columns_differ_from_training(tmp_path: Path) -> None:
    meta = {"model_version": "v1", "input_columns": raw_columns_spec(with_label=False)}
    files = {"model_meta.json": json.dumps(meta).encode(), "model/metadata/part-00000": b"{}"}
    model = write_committed(tmp_path / "model_dir", files)
    row = raw_row()
    row["Tenure"] = row.pop("tenure")
    src = write_csv(tmp_path / "new.csv", [row])
    out = tmp_path / "out"
    proc = run("score.py", "--model", str(model), "--input", str(src), "--output", str(out))
    assert_failed_cleanly(proc, out, "missing column(s) tenure", "unexpected column(s) 'Tenure'")


def test_unknown_classifier(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run("train.py", "--input", str(tmp_path), "--output", str(out), "--classifier", "svm")
    assert_failed_cleanly(proc, out, "--classifier: 'svm'")


@pytest.mark.spark
def test_wrong_type_through_spark_submit(tmp_path: Path) -> None:
    rows = [raw_row(customerID=f"000{i}-OK") for i in range(5)]
    rows.append(raw_row(customerID="0042-BAD", MonthlyCharges="12,50"))
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out"
    env = {**os.environ, "PYSPARK_PYTHON": PYTHON, "PYSPARK_DRIVER_PYTHON": PYTHON}
    env.pop("SPARK_REMOTE", None)
    proc = subprocess.run(
        [
            str(Path(PYTHON).parent / "spark-submit"),
            str(REPO / "spark" / "preprocess.py"),
            "--input",
            str(src),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    # spark-submit's PythonRunner merges the script's stderr into its own stdout.
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-2000:]
    assert "column MonthlyCharges: 1 bad value(s), e.g. '12,50' (customerID 0042-BAD)" in output
    assert not out.exists()
