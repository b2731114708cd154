"""Schedules as code: validate / plan / apply / next for schedules/*.yaml (see `--help`)."""

import sys

from scheduling.cli import main

if __name__ == "__main__":
    sys.exit(main())
