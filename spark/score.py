"""Score new customers with a saved model: Parquet predictions at <output>.

    python spark/score.py --model runs/train --input data/new_customers.csv --output runs/scores

Columns: customer_id, churn_probability, predicted_label (Yes/No), model_version.
"""

from __future__ import annotations

import argparse
import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the score job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="train.py / tune.py output directory URI")
    parser.add_argument("--input", required=True, help="customers CSV (no Churn column needed)")
    parser.add_argument("--output", required=True, help="output directory URI (Parquet)")
    args = parser.parse_args(argv)
    return cli.run(jobs.score, model_uri=args.model, input_uri=args.input, output_uri=args.output)


if __name__ == "__main__":
    sys.exit(main())
