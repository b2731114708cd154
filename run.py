"""Run a pipeline locally: python run.py churn-training [--param name=value ...]."""

import sys

from local.run_cli import run_main

if __name__ == "__main__":
    sys.exit(run_main(sys.argv[1:]))
