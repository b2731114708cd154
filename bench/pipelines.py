"""Issue 3's figures: compile.py wall time in a fresh process, and a local churn-training run.

  python bench/pipelines.py [--compile-runs 5] [--skip-run] [--rows 7043]

Prints the median (and min/max) wall time of `python compile.py --check` and `python compile.py`
in fresh processes (both targets, every pipeline), then runs `run.py churn-training` once on the
generated sample and prints each step's wall time, with preprocess + train + evaluate summed
(the issue's target) and tuning reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def bench_compile(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (
            ("compile (write)", ["--build-dir", tmp]),
            ("compile --check", ["--check"]),
        ):
            times = [timed([sys.executable, "compile.py", *extra]) for _ in range(runs)]
            print(
                f"{label:<18} median {statistics.median(times):.2f} s "
                f"(min {min(times):.2f}, max {max(times):.2f}, {runs} fresh processes)"
            )


def bench_run(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.csv"
        subprocess.run(
            [
                sys.executable,
                "spark/sample_data.py",
                "--rows",
                str(rows),
                "--seed",
                "42",
                "--output",
                str(data),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "run.py",
                "churn-training",
                "--param",
                f"raw_data_uri={data}",
                "--runs-dir",
                str(Path(tmp) / "runs"),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        outputs = json.loads(next((Path(tmp) / "runs").glob("*/outputs.json")).read_text())
    steps = outputs["step_seconds"]
    gate = outputs["outputs"]["gate_passed"]
    print(f"\nrun.py churn-training on {rows} generated rows (gate passed: {gate})")
    for step, seconds in steps.items():
        print(f"  {step:<16} {seconds:6.1f} s")
    core = sum(steps.get(s, 0.0) for s in ("prepare-run", "preprocess", "train", "evaluate"))
    tuning = sum(steps.get(s, 0.0) for s in ("tune", "evaluate-tuned", "select-model"))
    print(f"  prepare-run + preprocess + train + evaluate: {core:.1f} s (target <= 90 s)")
    print(f"  tuning (tune + evaluate-tuned + select-model): {tuning:.1f} s")
    print(f"  pipeline total {outputs['total_seconds']:.1f} s; process wall {wall:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile-runs", type=int, default=5)
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--rows", type=int, default=7043)
    args = parser.parse_args()
    bench_compile(args.compile_runs)
    if not args.skip_run:
        bench_run(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
