"""Train the churn model on a preprocess output: <output>/model, metrics.json, model_meta.json.

python spark/train.py --input runs/prep --output runs/train [--classifier rf|gbt|lr]
"""

from __future__ import annotations

import argparse
import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the train job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="preprocess output directory URI")
    parser.add_argument("--output", required=True, help="output directory URI")
    parser.add_argument("--classifier", default="rf", help="rf (default), gbt or lr")
    parser.add_argument(
        "--seed", type=cli.whole_number, default=42, help="split and model seed (42)"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="test share (0.2)")
    parser.add_argument("--model-version", default=None, help="default: <classifier>-<UTC time>")
    args = parser.parse_args(argv)
    return cli.run(
        jobs.train,
        input_uri=args.input,
        output_uri=args.output,
        classifier=args.classifier,
        seed=args.seed,
        test_fraction=args.test_fraction,
        model_version=args.model_version,
    )


if __name__ == "__main__":
    sys.exit(main())
