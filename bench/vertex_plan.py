"""The critical path of each compiled Vertex template, and what a run would take and cost.

  python bench/vertex_plan.py [--build build/vertex] [--rev REV] [figure flags]

For each pipeline: the longest chain of tasks that must run one after another (the batches on
it marked), every task a run executes (the longer branch of each if/else), the tasks the
template declares, and an estimate of the wall time and cost of one run. `--rev REV` also
prints the templates of a git revision (`git show REV:build/vertex/...`), for before/after.

Where each default figure comes from (change them with the flags once you have measured your
own project):
- `--batch-startup-seconds 45`: "The average startup time for both standard and premium tier
  batches and sessions is 40 to 50 seconds" (Managed Service for Apache Spark, "tiers" page,
  https://docs.cloud.google.com/managed-spark/docs/tiers).
- `--batch-dcu 12`, `--batch-min-seconds 60`, `--dcu-hour-usd 0.06`: "By default, each ...
  batch ... consumes a minimum of 12 DCUs"; DCUs are "billed per second, with a 1-minute
  minimum charge"; Data Compute Unit (Standard) $0.06 per DCU-hour (its example: 12 DCUs x 24
  hours x $0.06 = $17.28) (https://cloud.google.com/dataproc-serverless/pricing).
- `--task-seconds 60`: no published figure. Each light step runs "as a Vertex AI CustomJob
  using an e2-standard-4 machine" (https://cloud.google.com/vertex-ai/docs/pipelines/
  machine-types), so it pays a machine and container start; 60 s is an assumption, to be
  replaced by the task durations of a real run (the console's task details).
- `--task-hour-usd 0.15`: an approximate hourly rate of an e2-standard-4 custom-training
  machine; check "Vertex AI pricing" for your region (https://cloud.google.com/vertex-ai/pricing).
- `--run-fee-usd 0.03`: Vertex AI Pipelines' run execution fee per pipeline run (same page).
- `--batch-run-seconds 60`: the Spark work of one batch on the Telco-sized file; locally the
  jobs take 1-30 s (bench/pipelines.py), a batch's driver and executors are slower to warm up.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tooling.critical_path import Figures, Plan, plan  # noqa: E402


def figures_from(args: argparse.Namespace) -> Figures:
    return Figures(
        task_seconds=args.task_seconds,
        batch_startup_seconds=args.batch_startup_seconds,
        batch_run_seconds=args.batch_run_seconds,
        batch_dcu=args.batch_dcu,
        batch_min_seconds=args.batch_min_seconds,
        dcu_hour_usd=args.dcu_hour_usd,
        task_hour_usd=args.task_hour_usd,
        run_fee_usd=args.run_fee_usd,
    )


def templates_at(rev: str | None, build: Path) -> dict[str, dict]:
    """The compiled templates of the working tree (rev None) or of a git revision."""
    if rev is None:
        return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(build.glob("*.yaml"))}
    folder = build.resolve().relative_to(ROOT).as_posix()
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{rev}:{folder}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        Path(name).stem: yaml.safe_load(
            subprocess.run(
                ["git", "show", f"{rev}:{folder}/{name}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for name in names
        if name.endswith(".yaml")
    }


def render(found: Plan, figures: Figures) -> str:
    path = " -> ".join(f"{s.name}*" if s.kind == "batch" else s.name for s in found.path)
    minutes = found.wall_seconds(figures) / 60
    return "\n".join(
        [
            f"{found.pipeline}: critical path {len(found.path)} tasks, "
            f"{found.batches(found.path)} batches on it (* = Dataproc batch)",
            f"  {path}",
            f"  a run executes {len(found.executed)} tasks "
            f"({found.batches(found.executed)} batches); the template declares {found.declared}",
            f"  estimate: {minutes:.1f} min wall, ${found.cost_usd(figures):.3f} per run",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "vertex")
    parser.add_argument("--rev", help="also print the templates of this git revision (before)")
    parser.add_argument("--task-seconds", type=float, default=60.0)
    parser.add_argument("--batch-startup-seconds", type=float, default=45.0)
    parser.add_argument("--batch-run-seconds", type=float, default=60.0)
    parser.add_argument("--batch-dcu", type=float, default=12.0)
    parser.add_argument("--batch-min-seconds", type=float, default=60.0)
    parser.add_argument("--dcu-hour-usd", type=float, default=0.06)
    parser.add_argument("--task-hour-usd", type=float, default=0.15)
    parser.add_argument("--run-fee-usd", type=float, default=0.03)
    args = parser.parse_args(argv)
    figures = figures_from(args)
    print(
        f"figures: light task {figures.task_seconds:.0f} s, batch start "
        f"{figures.batch_startup_seconds:.0f} s + run {figures.batch_run_seconds:.0f} s at "
        f"{figures.batch_dcu:.0f} DCU (${figures.dcu_hour_usd}/DCU-hour, "
        f"{figures.batch_min_seconds:.0f} s minimum), task machine ${figures.task_hour_usd}/h, "
        f"run fee ${figures.run_fee_usd}"
    )
    for label, rev in (("before", args.rev), ("now", None)) if args.rev else (("now", None),):
        print(f"\n== {label}{f' ({rev})' if rev else ''}")
        for spec in templates_at(rev, args.build).values():
            print(render(plan(spec, figures), figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
