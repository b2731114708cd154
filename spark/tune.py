"""Search a parameter grid by cross-validation, keep the best model: same outputs as train.py.

python spark/tune.py --input runs/prep --output runs/tune [--classifier auto|lr|gbt|rf]
    [--folds 3] [--grid lr.regParam=0.001,0.01] [--grid gbt.maxDepth=3,5]
"""

from __future__ import annotations

import os
import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the tune job."""
    parser = cli.model_job_parser(
        __doc__.splitlines()[0],
        classifier_default="auto",
        classifier_help="auto (LR elastic net + GBT, default), lr, gbt, rf",
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
        "--search",
        default=os.environ.get("CHURN_TUNE_SEARCH", "halving"),
        help="halving (default: all candidates on one fold, the best quarter on every fold) or "
        "grid (every candidate on every fold); CHURN_TUNE_SEARCH sets the default "
        "(bench/pipelines.py compares the two)",
    )
    args = parser.parse_args(argv)
    return cli.run(
        jobs.tune,
        **cli.model_job_arguments(args),
        folds=args.folds,
        grid_specs=args.grid,
        search=args.search,
    )


if __name__ == "__main__":
    sys.exit(main())
