"""Write a seeded, realistic Telco customer-churn CSV (no Spark needed).

python spark/sample_data.py --rows 7043 --seed 42 --output data/telco.csv
python spark/sample_data.py --rows 500 --seed 7 --output data/new_customers.csv --scoring
"""

from __future__ import annotations

import argparse
import sys

from churn import sample_output


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=7043, help="number of customers (7043)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same bytes)")
    parser.add_argument("--output", required=True, help="CSV file to write (local path/file://)")
    parser.add_argument("--scoring", action="store_true", help="omit the Churn column")
    args = parser.parse_args(argv)
    return sample_output.main(args.rows, args.seed, args.output, scoring=args.scoring)


if __name__ == "__main__":
    sys.exit(main())
