"""Train the churn model on a preprocess output: <output>/model, metrics.json, model_meta.json.

python spark/train.py --input runs/prep --output runs/train [--classifier lr|gbt|rf]
"""

from __future__ import annotations

import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the train job."""
    parser = cli.model_job_parser(
        __doc__.splitlines()[0], classifier_default="lr", classifier_help="lr (default), gbt or rf"
    )
    args = parser.parse_args(argv)
    return cli.run(jobs.train, **cli.model_job_arguments(args))


if __name__ == "__main__":
    sys.exit(main())
