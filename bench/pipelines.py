"""Issue 14's figures: the local churn-training, before and after, and the lab baseline.

  python bench/pipelines.py [--repeats 3] [--rows 7043] [--before REV | --skip-before]
                            [--compile-runs 0]

Runs `run.py churn-training` on the seeded sample `--repeats` times in each configuration and
prints the median wall time per step and of the whole `run.py` process:

- before: the code at `--before` (a git revision, checked out in a temporary worktree and run
  with this checkout's .venv, so only the code differs). The default is the last commit before
  the speed work of 2026-11-27: one Spark Connect server per run, a client process per Spark
  step, RF as train's default, 60-round GBT candidates, the best third going on.
- after, a server per run (`--spark run`): this checkout, a Spark server started and stopped
  by every run: what the first run of the day costs.
- after, kept server (`--spark kept`, what `make run` does): this checkout, the Spark server
  kept warm between runs (local/kept_spark.py). One run first starts it (printed apart, as
  "first run"); the `--repeats` runs after it are the ones a data scientist iterating makes.

Then the held-out AUC-ROC / AUC-PR of the default (train) and tuned models of each
configuration (quality must not drop), and the lab approach's preprocess + train
(bench/lab_baseline.py, two processes like its two Dataproc jobs) in the same bench run, with
the ratio of our whole pipeline to it per configuration. Figures depend on the machine's load:
run it idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from local import kept_spark  # noqa: E402

#: ba9e7b7: main before this bench's speed work (2026-11-27), the same DAG as today.
BEFORE = "ba9e7b7"


def timed(command: list[str], cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        sys.exit(
            f"bench: {' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
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


def held_out(run_dir: Path) -> dict[str, tuple[float, float]]:
    """(auc_roc, auc_pr) of the train and tune outputs in a run's working folder."""
    from model_registry.committed import open_committed

    found = {}
    for job in ("train", "tune"):
        for folder in run_dir.glob(f"kfp/*/prepare-run/workspace/{job}"):
            # committed outputs name their metrics.json in manifest.json; older checkouts
            # (compared by this bench) wrote it at the folder's top
            if (folder / "manifest.json").exists():
                metrics = open_committed(str(folder)).read_json("metrics.json")
            else:
                metrics = json.loads((folder / "metrics.json").read_text())
            found[job] = (metrics["auc_roc"], metrics["auc_pr"])
    return found


def one_run(
    code: Path, data: Path, runs: Path, extra: list[str]
) -> tuple[dict[str, float], float, dict]:
    """Run the pipeline of the checkout at `code` once; (step seconds, wall seconds, quality)."""
    before = set(runs.glob("*/outputs.json"))
    wall = timed(
        [
            sys.executable,
            "run.py",
            "churn-training",
            f"--data={data}",
            f"--runs-dir={runs}",
            *extra,
        ],
        cwd=code,
    )
    (new,) = set(runs.glob("*/outputs.json")) - before
    steps = json.loads(new.read_text())["step_seconds"]
    return steps, wall, held_out(new.parent)


@contextlib.contextmanager
def checkout(revision: str, parent: Path) -> Iterator[Path]:
    """`revision` checked out in a temporary git worktree under `parent`, removed afterwards."""
    path = parent / f"code-{revision}"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
        )


def bench_lab(data: Path, work: Path) -> float:
    """The lab approach's preprocess + train, two processes; wall seconds."""
    script = str(ROOT / "bench" / "lab_baseline.py")
    prep = timed([sys.executable, script, "preprocess", str(data), str(work / "lab-prep")])
    train = timed([sys.executable, script, "train", str(work / "lab-prep"), str(work / "lab")])
    return prep + train


def report(config: str, results: list[tuple[dict[str, float], float, dict]]) -> float:
    """Print medians per step and in total for one configuration; return the median wall time."""
    steps = list(results[0][0])
    print(f"\n{config}: median of {len(results)} runs")
    for step in steps:
        values = [r[0].get(step, 0.0) for r in results]
        print(f"  {step:<24} {statistics.median(values):6.1f} s")
    walls = [r[1] for r in results]
    print(f"  {'run.py wall time':<24} {statistics.median(walls):6.1f} s  (min {min(walls):.1f})")
    quality = results[0][2]
    for job, (auc_roc, auc_pr) in sorted(quality.items()):
        print(f"  held-out {job:<15} auc_roc {auc_roc:.4f}  auc_pr {auc_pr:.4f}")
    return statistics.median(walls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=7043)
    parser.add_argument("--compile-runs", type=int, default=0)
    parser.add_argument("--before", default=BEFORE, help=f"git revision to compare ({BEFORE})")
    parser.add_argument("--skip-before", action="store_true")
    args = parser.parse_args()
    if args.compile_runs:
        bench_compile(args.compile_runs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "customers.csv"
        subprocess.run(
            [sys.executable, "spark/sample_data.py", f"--rows={args.rows}", f"--output={data}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        walls = {}
        with contextlib.ExitStack() as stack:
            configs = [
                ("after, a server per run (--spark run)", ROOT, ["--spark=run"]),
                ("after, kept server (--spark kept, make run)", ROOT, ["--spark=kept"]),
            ]
            if not args.skip_before:
                label = f"before ({args.before})"
                configs.insert(0, (label, stack.enter_context(checkout(args.before, work)), []))
            for config, code, extra in configs:
                runs = work / f"runs-{len(walls)}"
                if "--spark=kept" in extra:
                    stack.callback(kept_spark.stop, runs)
                    first = one_run(code, data, runs, extra)
                    walls[f"{config}, first run"] = first[1]
                    print(f"\n{config}: first run (starts the server) {first[1]:.1f} s")
                results = [one_run(code, data, runs, extra) for _ in range(args.repeats)]
                walls[config] = report(config, results)
        labs = [bench_lab(data, work) for _ in range(args.repeats)]
    lab = statistics.median(labs)
    print(f"\nlab approach, preprocess + train only: median {lab:.1f} s")
    for config, wall in walls.items():
        print(f"  whole pipeline ({config}) / lab preprocess + train: {wall / lab:.2f}")
    before = next((wall for config, wall in walls.items() if config.startswith("before")), None)
    if before:
        for config, wall in walls.items():
            if not config.startswith("before"):
                print(f"  {config} / before: {wall / before:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
