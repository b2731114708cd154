"""Argument parsing and exit codes of run.py (the script itself stays a two-liner)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description=(
            "Run a pipeline on this machine: its local template through KFP's local runner, each "
            "Spark step on local Spark. Writes runs/<run-id>/ with a report."
        ),
    )
    parser.add_argument("pipeline", help="a pipeline name, e.g. churn-training or churn-scoring")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter (repeatable), e.g. --param raw_data_uri=data/telco.csv",
    )
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where runs are kept")
    return parser


def run_main(argv: list[str]) -> int:
    from tooling import local_run, report

    args = run_parser().parse_args(argv)
    try:
        result = local_run.run_pipeline(args.pipeline, args.param, runs_dir=args.runs_dir)
    except local_run.RunError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    print()
    print(f"run {result.run_id}: finished in {result.total_seconds:.1f} s")
    for step, seconds in result.step_seconds.items():
        print(f"  {step:<18} {seconds:7.1f} s")
    for name, value in result.outputs.items():
        print(f"  output {name} = {value}")
    if result.pipeline == "churn-training":
        metrics = report.load_metrics(result.outputs["model_uri"])
        path = report.write_training_report(
            result.run_dir / "report",
            run_id=result.run_id,
            metrics=metrics,
            outputs=result.outputs,
            parameters=result.parameters,
            step_seconds=result.step_seconds,
            total_seconds=result.total_seconds,
        )
        print()
        print(f"metrics of the {result.outputs.get('model_source')} model (test split):")
        for name in report.SCALARS:
            if name in metrics:
                print(f"  {name:<10} {metrics[name]:.4f}")
        print(f"\nreport: {path}")
    else:
        print(f"\nrun folder: {result.run_dir}")
    return 0
