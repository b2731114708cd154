"""What every job script shares: printing the result, turning InputError into exit code 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from churn.errors import InputError

EXIT_BAD_INPUT = 2


def run(job: Callable[..., dict[str, Any]], **kwargs: Any) -> int:
    """Run ``job``; print its result as JSON (stdout) or the error paragraph (stderr)."""
    try:
        result = job(**kwargs)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result, indent=2))
    line = summary_line(result)
    if line:
        # One line for people and for run.py's step view (components/spark_step.py reads it).
        print(f"summary: {line}", flush=True)
    return 0


#: Result fields worth a glance, in the order a summary shows them.
_SUMMARY_FIELDS = (
    ("rows_written", "{:,} rows"),
    ("churn_rate", "churn rate {:.1%}"),
    ("classifier", "{}"),
    ("auc_roc", "auc_roc {:.4f}"),
    ("auc_pr", "auc_pr {:.4f}"),
    ("rows_scored", "{:,} scored"),
    ("predicted_churn", "{:,} predicted to churn"),
)


def summary_line(result: dict[str, Any]) -> str:
    """The few fields of a job's result a person glances at (`7,043 rows`, `auc_roc 0.8400`)."""
    params = result.get("params") if isinstance(result.get("params"), dict) else {}
    fields = {**params, **result}
    parts = []
    for name, pattern in _SUMMARY_FIELDS:
        value = fields.get(name)
        if value is not None and not isinstance(value, (dict, list)):
            parts.append(pattern.format(value))
    return ", ".join(parts)


def model_job_parser(description: str, *, classifier_default: str, classifier_help: str):
    """The arguments train.py and tune.py share: data in, model out, classifier, split, seed."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", required=True, help="preprocess output directory URI")
    parser.add_argument("--output", required=True, help="output directory URI")
    parser.add_argument("--classifier", default=classifier_default, help=classifier_help)
    parser.add_argument(
        "--seed", type=whole_number, default=42, help="split, fold and model seed (42)"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="test share (0.2)")
    parser.add_argument("--model-version", default=None, help="default: <classifier>-<UTC time>")
    return parser


def model_job_arguments(args: Any) -> dict[str, Any]:
    """The shared arguments as keyword arguments of jobs.train / jobs.tune."""
    return {
        "input_uri": args.input,
        "output_uri": args.output,
        "classifier": args.classifier,
        "seed": args.seed,
        "test_fraction": args.test_fraction,
        "model_version": args.model_version,
    }


def whole_number(text: str) -> int:
    """An argparse type for integers that also takes "42.0".

    Pipeline runners hand integer parameters over as JSON numbers, and KFP's local runner
    renders them into arguments as "42.0"; a fractional value is still refused.
    """
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number: '{text}'") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"invalid whole number: '{text}'")
    return int(value)
