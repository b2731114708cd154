"""Cross-validate a parameter grid, keep the best model: same outputs as train.py.

python spark/tune.py --input runs/prep --output runs/tune [--classifier auto|lr|gbt|rf]
    [--folds 3] [--grid lr.regParam=0.001,0.01] [--grid gbt.maxDepth=3,5]
"""

from __future__ import annotations

import argparse
import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the tune job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="preprocess output directory URI")
    parser.add_argument("--output", required=True, help="output directory URI")
    parser.add_argument(
        "--classifier", default="auto", help="auto (LR elastic net + GBT, default), lr, gbt, rf"
    )
    parser.add_argument(
        "--folds", type=cli.whole_number, default=3, help="cross-validation folds (3)"
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=None,
        metavar="[FAMILY.]PARAM=V1,V2",
        help="override one grid axis; repeatable (e.g. lr.regParam=0.001,0.01)",
    )
    parser.add_argument(
        "--seed", type=cli.whole_number, default=42, help="split, fold and model seed (42)"
    )
    parser.add_argument(
        "--parallelism", type=cli.whole_number, default=2, help="models fitted at once (2)"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="test share (0.2)")
    parser.add_argument("--model-version", default=None, help="default: <classifier>-<UTC time>")
    args = parser.parse_args(argv)
    return cli.run(
        jobs.tune,
        input_uri=args.input,
        output_uri=args.output,
        classifier=args.classifier,
        folds=args.folds,
        grid_specs=args.grid,
        seed=args.seed,
        parallelism=args.parallelism,
        test_fraction=args.test_fraction,
        model_version=args.model_version,
    )


if __name__ == "__main__":
    sys.exit(main())
