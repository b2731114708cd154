"""Argument parsing, the closing summary and exit codes of run.py (the script stays a two-liner)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from local import SPARK_MODES
from local.kept_spark import DEFAULT_IDLE_MINUTES, IDLE_ENV

if TYPE_CHECKING:
    from local.local_run import RunResult
    from local.report import ReportData

#: The Spark mode run.py uses when --spark is not given (tests set "run": nothing outlives them).
SPARK_MODE_ENV = "CHURN_LOCAL_SPARK"
SUMMARY_METRICS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")
SUMMARY_COLUMNS = 5


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description=(
            "Run a pipeline on this machine: its local template through KFP's local runner, each "
            "Spark step on local Spark. Writes runs/<run-id>/ with logs and a report."
        ),
    )
    parser.add_argument("pipeline", help="a pipeline name, e.g. churn-training or churn-scoring")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter (repeatable), e.g. --param classifier=gbt",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="a customers CSV of yours instead of the generated sample",
    )
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where runs are kept")
    parser.add_argument(
        "--verbose", action="store_true", help="stream every step's full output as well"
    )
    parser.add_argument(
        "--spark",
        choices=SPARK_MODES,
        default=os.environ.get(SPARK_MODE_ENV) or "kept",
        help="kept (default): one Spark server kept warm between runs, stopped after "
        f"{DEFAULT_IDLE_MINUTES:g} min unused ({IDLE_ENV}; `python -m local.kept_spark stop`); "
        "run: one for this run only; step: a JVM per Spark step (slowest). "
        f"{SPARK_MODE_ENV} sets the default",
    )
    return parser


def _short(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _summary_lines(result: RunResult, data: ReportData) -> list[str]:
    from local.report import column_importances, signed

    lines = [f"run {result.run_id}: finished in {result.total_seconds:.1f} s"]
    shown = [
        f"{name}={_short(data.outputs[name])}"
        for name in result.spec.summary_outputs
        if name in data.outputs and data.outputs[name] not in ("", None)
    ]
    if shown:
        lines += textwrap.wrap(
            ", ".join(shown), width=98, initial_indent="  ", subsequent_indent="  "
        )
    if data.metrics:
        versus = f" (change vs {data.previous.run_id})" if data.previous else ""
        lines.append(f"metrics, test split{versus}:")
        for name in SUMMARY_METRICS:
            if name in data.metrics:
                change = signed(data.delta(name), name)
                lines.append(f"  {name:<10} {data.metrics[name]:.4f}  {change}".rstrip())
    columns = column_importances(data.metrics)[:SUMMARY_COLUMNS]
    if columns:
        lines.append("top columns: " + ", ".join(f"{c} {v:.3f}" for c, v in columns))
    return lines


def report_for(result: RunResult, runs_dir: Path) -> tuple[ReportData, Path, Path]:
    """Gather the run's report data and write report.md / report.html."""
    from local import report

    metrics = {}
    source = result.spec.metrics_output
    if source and result.outputs.get(source):
        metrics = report.load_metrics(str(result.outputs[source]))
    data = report.ReportData(
        run_id=result.run_id,
        pipeline=result.pipeline,
        outputs=result.outputs,
        parameters=result.parameters,
        steps=[(s.name, s.seconds or 0.0, s.figure) for s in result.steps.values()],
        total_seconds=result.total_seconds,
        summary_outputs=result.spec.summary_outputs,
        metrics=metrics,
        previous=report.previous_run(runs_dir, result.pipeline, result.run_dir),
    )
    markdown, html = report.write_report(result.run_dir / "report", data)
    return data, markdown, html


def run_main(argv: list[str]) -> int:
    """run.py: 0 on success, 1 when the run could not start or a step failed."""
    from local import local_run

    args = run_parser().parse_args(argv)
    if args.spark not in SPARK_MODES:  # argparse checks --spark, not the environment's default
        print(
            f"error: {SPARK_MODE_ENV}={args.spark!r}: choose one of {', '.join(SPARK_MODES)}",
            file=sys.stderr,
        )
        return 1
    try:
        options = local_run.RunOptions(data=args.data, verbose=args.verbose, spark=args.spark)
        result = local_run.run_pipeline(
            args.pipeline, args.param, runs_dir=args.runs_dir, options=options
        )
    except local_run.RunError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    data, markdown, html = report_for(result, args.runs_dir)
    print()
    print("\n".join(_summary_lines(result, data)))
    print(f"report: {html}")
    print(f"        {markdown}")
    return 0
