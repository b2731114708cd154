"""Benchmark: `schedule.py status` for 100 schedules with 50 runs each, against the fakes.

    .venv/bin/python bench/status.py [--schedules 100] [--runs 50] [--repeat 3]

Prints the wall time of one status (median of --repeat, in process, after the client libraries
are imported; the import time is printed apart) and the API calls it made: ListJobs and
ListPipelineJobs, with GetJob / GetPipelineJob (none expected).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.schedules import write_tree  # noqa: E402
from contract.naming import job_id, job_labels  # noqa: E402
from fakes.scheduler import running_scheduler  # noqa: E402
from fakes.vertex import fake_vertex  # noqa: E402
from scheduling.api import make_client  # noqa: E402
from scheduling.cli import main as schedule_main  # noqa: E402
from scheduling.jobs import build_desired  # noqa: E402
from scheduling.validate import validate_tree  # noqa: E402

ENV = "dev"


def create_jobs(tree: Path, templates: str) -> tuple[list[str], str]:
    """Create every schedule's job in the fake scheduler; (schedule names, parent)."""
    result = validate_tree(tree, templates, only_env=ENV)
    if result.problems:
        raise SystemExit("\n".join(map(str, result.problems)))
    env = result.environments[ENV]
    client = make_client()
    for want in build_desired(result.schedules, env, result.parameters):
        client.create_job(parent=env.parent, job=want.job)
    return [s.name for s in result.schedules], env.parent


def add_runs(vertex, parent: str, names: list[str], per_schedule: int, now: datetime) -> None:
    """`per_schedule` finished runs of each schedule inside the last 7 days."""
    states = ("PIPELINE_STATE_SUCCEEDED",) * 9 + ("PIPELINE_STATE_FAILED",)
    for name in names:
        for i in range(per_schedule):
            fire = (now - timedelta(hours=3 * i + 1)).replace(microsecond=0)
            run_id = job_id(ENV, name, fire)
            vertex.add_job(parent, run_id, job_labels(ENV, "churn-training", "v1", name, fire),
                           states[i % len(states)])  # fmt: skip
            job = vertex.jobs[f"{parent}/pipelineJobs/{run_id}"]
            job.create_time = job.start_time = fire
            job.end_time = fire + timedelta(minutes=25)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--templates", default=str(REPO / "build" / "vertex"))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from google.cloud import aiplatform_v1  # noqa: F401  (import cost, apart from status)

    imported = time.perf_counter() - started
    now = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_scheduler() as (scheduler, scheduler_host),
        fake_vertex() as (vertex, vertex_host),
    ):
        os.environ["SCHEDULER_EMULATOR_HOST"] = scheduler_host
        os.environ["AIPLATFORM_EMULATOR_HOST"] = vertex_host
        tree = Path(scratch) / "schedules"
        write_tree(tree, args.schedules)
        names, parent = create_jobs(tree, args.templates)
        add_runs(vertex, parent, names, args.runs, now)
        times, served = [], []
        for _ in range(args.repeat):
            scheduler.reset_calls()
            vertex.calls.clear()
            vertex.busy_seconds = 0.0
            out = io.StringIO()
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = schedule_main(["status", "--env", ENV, "--schedules", str(tree), "--json"])
            times.append(time.perf_counter() - t0)
            served.append(vertex.busy_seconds)
            if code != 0:
                raise SystemExit(f"status failed with exit code {code}")
        calls = {
            "ListJobs": scheduler.calls["ListJobs"],
            "GetJob": scheduler.calls["GetJob"],
            "ListPipelineJobs": vertex.calls["ListPipelineJobs"],
            "GetPipelineJob": vertex.calls["GetPipelineJob"],
        }
    print(f"status: {len(names)} schedules x {args.runs} runs = {len(names) * args.runs} runs")
    print(f"  wall time (median of {args.repeat}): {statistics.median(times):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})")  # fmt: skip
    print(f"  of which the fake PipelineService spent (median): {statistics.median(served):.3f} s "
          "filtering and serializing (the real service's time is not ours either)")  # fmt: skip
    print(f"  API calls per status: {calls}")
    print(f"  aiplatform_v1 import (once per process, not included): {imported:.2f} s")


if __name__ == "__main__":
    main()
