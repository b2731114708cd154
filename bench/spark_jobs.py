"""Wall time and peak driver memory of each Spark job at 7k, 70k and 700k generated rows.

    .venv/bin/python bench/spark_jobs.py                 # all sizes + the lab baseline at 7k
    .venv/bin/python bench/spark_jobs.py --sizes 7043 --no-baseline
    .venv/bin/python bench/spark_jobs.py --tune-max-rows 0   # skip tune

Each job runs as its own process (``python spark/<job>.py``), exactly as a user runs it, with a
fixed driver heap (``--driver-memory``, default 1g). Memory figures per job:

- ``py_rss``: peak resident memory of the Python driver process (polled every 50 ms);
- ``jvm_rss``: peak resident memory of the driver JVM (in local mode it also runs the tasks);
- ``heap_live``: the largest heap occupancy right *after* a full garbage collection, from the
  JVM's own GC log (-Xlog:gc): the memory the driver really holds on to (0 = no full GC was
  needed). Collecting rows to the driver makes it grow with the data; bounded aggregates keep
  it flat.
- ``heap_peak``: the largest heap occupancy right *before* a collection (young garbage
  included; bounded by the heap size, so mostly shows how hard the heap was used).

With the default local[*] master the tasks run inside the driver JVM, so its heap also holds
the executors' caches (Spark bounds those by its unified-memory fraction). For the driver's own
memory run ``--master 'local-cluster[1,2,2048]'``: tasks then run in a separate executor JVM.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GC_LINE = re.compile(r"Pause.*?(\d+)([KMG])->(\d+)([KMG])\((\d+)([KMG])\)")
UNIT_MB = {"K": 1 / 1024, "M": 1.0, "G": 1024.0}


@dataclass
class Run:
    """One measured process."""

    label: str
    rows: int
    wall_s: float
    py_rss_mb: float
    jvm_rss_mb: float
    heap_live_mb: float
    heap_peak_mb: float
    result: dict


def gc_figures(log: Path) -> tuple[float, float]:
    """(largest heap after a full GC, largest heap before any GC) in MB from a -Xlog:gc file.

    Only a full collection leaves nothing but live objects (a young one leaves old garbage in
    place), so the live figure comes from full collections; 0 when none happened.
    """
    live = peak = 0.0
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            m = GC_LINE.search(line)
            if m:
                peak = max(peak, int(m.group(1)) * UNIT_MB[m.group(2)])
                if "Pause Full" in line:
                    live = max(live, int(m.group(3)) * UNIT_MB[m.group(4)])
    return live, peak


def measure(
    label: str, rows: int, cmd: list[str], workdir: Path, driver_memory: str, master: str = ""
) -> Run:
    """Run ``cmd`` and sample the RSS of its Python process and JVM child until it exits."""
    gc_log = workdir / f"gc-{label.replace(' ', '-')}-{rows}.log"
    gc_log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYSPARK_PYTHON": PYTHON,
        "PYSPARK_SUBMIT_ARGS": " ".join(
            [
                f"--driver-memory {driver_memory}",
                "--driver-java-options",
                shlex.quote(f"-Xlog:gc:file={gc_log}"),
                "pyspark-shell",
            ]
        ),
    }
    env.pop("SPARK_REMOTE", None)
    if master:
        env["SPARK_MASTER"] = master
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    ps = psutil.Process(proc.pid)
    py_peak = jvm_peak = 0
    while proc.poll() is None:
        try:
            py_peak = max(py_peak, ps.memory_info().rss)
            # the driver JVM is a direct child (spark-class execs java); executor JVMs of a
            # local-cluster master are its children and are not counted.
            for child in ps.children(recursive=False):
                if "java" in child.name():
                    jvm_peak = max(jvm_peak, child.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{err[-3000:]}")
    live, peak = gc_figures(gc_log)
    try:
        result = json.loads(out[out.index("{") :]) if "{" in out else {}
    except json.JSONDecodeError:
        result = {}
    return Run(label, rows, wall, py_peak / 2**20, jvm_peak / 2**20, live, peak, result)


def print_run(run: Run) -> None:
    """One table row, flushed so long benches show progress."""
    extra = ""
    if "auc_roc" in run.result:
        extra = f"auc_roc={run.result['auc_roc']:.4f} auc_pr={run.result.get('auc_pr', 0):.4f}"
    print(
        f"{run.rows:>8} {run.label:<16} {run.wall_s:>8.1f} {run.py_rss_mb:>8.0f} "
        f"{run.jvm_rss_mb:>8.0f} {run.heap_live_mb:>9.0f} {run.heap_peak_mb:>9.0f}  {extra}",
        flush=True,
    )


def bench_size(rows: int, workdir: Path, args: argparse.Namespace) -> list[Run]:
    """Generate ``rows`` customers and run every job on them."""
    d = workdir / str(rows)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    spark_dir = REPO / "spark"
    t = time.perf_counter()
    for name, extra in (("raw.csv", []), ("new.csv", ["--scoring"])):
        subprocess.run(
            [
                PYTHON,
                str(spark_dir / "sample_data.py"),
                "--rows",
                str(rows),
                "--seed",
                "42",
                "--output",
                str(d / name),
                *extra,
            ],
            check=True,
            capture_output=True,
        )
    print(f"{rows:>8} {'(generate x2)':<16} {time.perf_counter() - t:>8.1f}", flush=True)
    jobs = [
        (
            "preprocess",
            ["preprocess.py", "--input", str(d / "raw.csv"), "--output", str(d / "prep")],
        ),
        ("train", ["train.py", "--input", str(d / "prep"), "--output", str(d / "train")]),
    ]
    if rows <= args.tune_max_rows:
        jobs.append(("tune", ["tune.py", "--input", str(d / "prep"), "--output", str(d / "tune")]))
    jobs.append(
        (
            "score",
            [
                "score.py",
                "--model",
                str(d / "train"),
                "--input",
                str(d / "new.csv"),
                "--output",
                str(d / "scores"),
            ],
        )
    )
    runs = []
    for label, (script, *rest) in jobs:
        cmd = [PYTHON, str(spark_dir / script), *rest]
        run = measure(label, rows, cmd, workdir, args.driver_memory, args.master)
        print_run(run)
        runs.append(run)
    return runs


def bench_baseline(workdir: Path, args: argparse.Namespace) -> list[Run]:
    """The lab's approach at 7,043 rows: its preprocess and train processes."""
    d = workdir / "lab"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    subprocess.run(
        [
            PYTHON,
            str(REPO / "spark" / "sample_data.py"),
            "--rows",
            "7043",
            "--seed",
            "42",
            "--output",
            str(d / "raw.csv"),
        ],
        check=True,
        capture_output=True,
    )
    lab = str(REPO / "bench" / "lab_baseline.py")
    runs = []
    for label, cmd in (
        ("lab preprocess", [PYTHON, lab, "preprocess", str(d / "raw.csv"), str(d / "prep")]),
        ("lab train", [PYTHON, lab, "train", str(d / "prep"), str(d / "train")]),
    ):
        run = measure(label, 7043, cmd, workdir, args.driver_memory, args.master)
        print_run(run)
        runs.append(run)
    return runs


def main(argv: list[str] | None = None) -> int:
    """Parse flags, run the benchmark, print the table and the summary ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="7043,70430,704300", help="comma-separated row counts (7k,70k,700k)"
    )
    parser.add_argument(
        "--tune-max-rows", type=int, default=70430, help="run tune only up to this size (70430)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the lab baseline")
    parser.add_argument("--driver-memory", default="1g", help="fixed spark.driver.memory (1g)")
    parser.add_argument(
        "--master",
        default="",
        help="SPARK_MASTER for the jobs (default local[*]); local-cluster[1,2,2048] runs the "
        "tasks in a separate executor JVM so the driver's own memory can be seen",
    )
    parser.add_argument("--workdir", default=None, help="scratch directory (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="churn-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"cores={os.cpu_count()} master={args.master or 'local[*]'} "
        f"driver-memory={args.driver_memory} workdir={workdir}"
    )
    print(
        f"{'rows':>8} {'job':<16} {'wall_s':>8} {'py_rss':>8} {'jvm_rss':>8} "
        f"{'heap_live':>9} {'heap_peak':>9}  (MB)"
    )
    runs: list[Run] = []
    if not args.no_baseline:
        runs += bench_baseline(workdir, args)
    for rows in sizes:
        runs += bench_size(rows, workdir, args)

    def wall(label: str, rows: int) -> float | None:
        hits = [r.wall_s for r in runs if r.label == label and r.rows == rows]
        return hits[0] if hits else None

    ours = [wall("preprocess", 7043), wall("train", 7043)]
    lab = [wall("lab preprocess", 7043), wall("lab train", 7043)]
    if all(ours) and all(lab):
        o, b = sum(ours), sum(lab)  # type: ignore[arg-type]
        print(f"\npreprocess+train at 7043 rows: ours {o:.1f}s, lab {b:.1f}s, ratio {o / b:.2f}")
    for label in ("preprocess", "train", "score"):
        pts = [(r.rows, r.wall_s, r.heap_live_mb) for r in runs if r.label == label]
        if len(pts) > 1:
            desc = ", ".join(f"{n}: {w:.1f}s/{h:.0f}MB" for n, w, h in pts)
            print(f"{label:<10} wall/heap_live by rows: {desc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
