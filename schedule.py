"""Schedules as code: validate / plan / apply / next for schedules/*.yaml, and the day-to-day
operations status / run / backfill / pause / resume (see `--help`, scheduling/README.md)."""

import sys

from scheduling.cli import main

if __name__ == "__main__":
    sys.exit(main())
