"""Benchmark: 1,000 schedules against the fake Cloud Scheduler (figures printed, nothing asserted).

    .venv/bin/python bench/schedules.py [--count 1000] [--templates build/vertex]

Prints validate+plan time (in process, and `schedule.py plan` as a fresh process), the ListJobs
calls, writes and time of a no-op apply (which includes taking and releasing the apply lock on
the GCS emulator), the writes after one changed file, and what a per-job refresh
(one GetJob per job, Terraform's way) needs for the same information.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fakes.gcs import gcs_emulator  # noqa: E402
from fakes.scheduler import running_scheduler  # noqa: E402
from scheduling.api import MAX_PAGE_SIZE, make_client  # noqa: E402
from scheduling.cli import main as schedule_main  # noqa: E402

CRONS = ("0 3 * * 1", "30 5 * * *", "*/30 * * * *", "0 9-17 * * MON-FRI", "15 2 1 * *")
ZONES = ("Europe/Amsterdam", "UTC", "America/New_York", "Asia/Tokyo")


def write_tree(root: Path, count: int) -> None:
    """`count` schedules alternating between the two pipelines, plus the shipped environments."""
    shutil.copytree(REPO / "schedules" / "environments", root / "environments")
    for i in range(count):
        if i % 2:
            body = (
                "pipeline: churn-scoring\n"
                "parameters:\n"
                f"  customers_path: customers/part-{i}.csv\n"
                "  model: churn@champion\n"
            )
        else:
            body = (
                "pipeline: churn-training\n"
                "parameters:\n"
                f"  raw_data_path: raw/part-{i}.csv\n"
                f"  gate_threshold: {0.5 + (i % 40) / 100}\n"
            )
        (root / f"bench-{i:04d}.yaml").write_text(
            body
            + f'cron: "{CRONS[i % len(CRONS)]}"\n'
            + f"time_zone: {ZONES[i % len(ZONES)]}\n"
            + f"description: bench schedule {i}\n"
            + "retry: {count: 2, min_backoff: 30s, max_backoff: 10m}\n"
            + "attempt_deadline: 5m\n"
        )


def templates_dir(requested: str, scratch: Path) -> Path:
    """The compiled templates to check against (build/vertex by default)."""
    del scratch
    path = REPO / requested
    if not (path / "churn-training.yaml").exists():
        raise SystemExit(f"{path}: no compiled templates; run `python compile.py` first")
    return path


def run_cli(*args: str) -> int:
    """schedule.py in process, its output swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return schedule_main(list(args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--templates", default="build/vertex")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as scratch,
        running_scheduler() as (fake, host),
        # apply holds the environment's lock under dev's template_base (gs://acme-churn-dev-templates)
        gcs_emulator(buckets=("acme-churn-dev-templates",)),
    ):
        scratch_path = Path(scratch)
        root = scratch_path / "schedules"
        write_tree(root, args.count)
        templates = str(templates_dir(args.templates, scratch_path))
        os.environ["SCHEDULER_EMULATOR_HOST"] = host
        common = ["--env", "dev", "--schedules", str(root), "--templates", templates]

        start = time.perf_counter()
        code = run_cli("apply", *common, "--auto-approve")
        first_apply = time.perf_counter() - start
        print(f"schedules: {args.count}   page size: {MAX_PAGE_SIZE}")
        print(f"first apply: exit {code}, {fake.calls['CreateJob']} CreateJob, {first_apply:.2f} s")

        fake.reset_calls()
        start = time.perf_counter()
        code = run_cli(
            "validate", "--env", "dev", "--schedules", str(root), "--templates", templates
        )
        validate_s = time.perf_counter() - start
        start = time.perf_counter()
        code = run_cli("plan", *common, "--detailed-exitcode")
        plan_s = time.perf_counter() - start
        print(
            f"validate: {validate_s:.2f} s   plan (validate + list + diff): {plan_s:.2f} s "
            f"(in process; exit {code}, {fake.calls['ListJobs']} ListJobs)"
        )
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(REPO / "schedule.py"), "plan", *common],
            capture_output=True,
            text=True,
            cwd=scratch,
            check=False,
        )
        fresh = time.perf_counter() - start
        print(
            f"`schedule.py plan` as a fresh process (imports included): {fresh:.2f} s "
            f"(exit {proc.returncode})"
        )

        fake.reset_calls()
        start = time.perf_counter()
        code = run_cli("apply", *common, "--auto-approve")
        noop_s = time.perf_counter() - start
        lists = fake.calls["ListJobs"]
        print(
            f"no-op apply ({noop_s:.2f} s, apply lock included): exit {code}, "
            f"ListJobs calls {lists} "
            f"(⌈{args.count}/{MAX_PAGE_SIZE}⌉ = {math.ceil(args.count / MAX_PAGE_SIZE)}), "
            f"writes {fake.writes()}, GetJob calls {fake.calls['GetJob']}"
        )

        path = root / "bench-0007.yaml"
        path.write_text(
            path.read_text().replace("description: bench schedule 7", "description: changed")
        )
        fake.reset_calls()
        code = run_cli("apply", *common, "--auto-approve")
        print(
            f"one changed file: exit {code}, writes {fake.writes()} "
            f"(UpdateJob {fake.calls['UpdateJob']}), ListJobs {fake.calls['ListJobs']}"
        )

        client = make_client()
        names = list(fake.jobs)
        fake.reset_calls()
        start = time.perf_counter()
        for name in names:
            client.get_job(name=name)
        per_job = time.perf_counter() - start
        print(
            f"per-job refresh (Terraform's way): {fake.calls['GetJob']} GetJob calls, "
            f"{per_job:.2f} s against the in-process fake, versus "
            f"{math.ceil(len(names) / MAX_PAGE_SIZE)} ListJobs calls here"
        )


if __name__ == "__main__":
    main()
