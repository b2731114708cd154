"""Raw Telco churn CSV -> checked, typed, cleaned Parquet (<output>/data) + <output>/report.json.

python spark/preprocess.py --input data/telco.csv --output runs/prep
"""

from __future__ import annotations

import argparse
import sys

from churn import cli, jobs


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the preprocess job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="raw CSV (path, file:// or gs:// URI)")
    parser.add_argument("--output", required=True, help="output directory URI")
    args = parser.parse_args(argv)
    return cli.run(jobs.preprocess, input_uri=args.input, output_uri=args.output)


if __name__ == "__main__":
    sys.exit(main())
