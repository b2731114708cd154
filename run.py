"""Run a pipeline locally: python run.py churn-training [--param name=value ...]."""

import sys

from tooling.run_cli import run_main

if __name__ == "__main__":
    sys.exit(run_main(sys.argv[1:]))
