"""`infra/bootstrap.py --env ENV [--dry-run] [--verbose]`: argument parsing and output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra import desired
from infra.apply import dry_run, programs, run
from infra.envfile import EnvironmentFileError, load
from infra.gcloud import GcloudError, Runner
from infra.plan import Options, steps_for
from infra.step import Differs, Waiting
from infra.todo import left_to_do

REPO = Path(__file__).resolve().parents[1]


def parser() -> argparse.ArgumentParser:
    """The command line of infra/bootstrap.py."""
    p = argparse.ArgumentParser(
        prog="infra/bootstrap.py",
        description="Create, idempotently, everything a first deployment of ENV needs in Google "
        "Cloud (APIs, service accounts, roles, buckets, network, docker repository).",
    )
    p.add_argument("--env", required=True, help="environment (schedules/environments/ENV.yaml)")
    p.add_argument("--dry-run", action="store_true", help="print every command; run none")
    p.add_argument("--verbose", action="store_true", help="print each command as it runs")
    p.add_argument(
        "--network",
        default=desired.DEFAULT_NETWORK,
        help="VPC network for the subnetwork when it has to be created (default: %(default)s)",
    )
    p.add_argument(
        "--subnet-range",
        default=desired.DEFAULT_SUBNET_RANGE,
        help="primary range of the subnetwork when it has to be created (default: %(default)s)",
    )
    p.add_argument(
        "--environments-dir",
        type=Path,
        default=REPO / "schedules" / "environments",
        help=argparse.SUPPRESS,
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the setup; 0 when done (or printed), 1 on a gcloud failure, 2 on a bad environment."""
    args = parser().parse_args(argv)
    try:
        env = load(args.environments_dir, args.env)
    except EnvironmentFileError as err:
        print(f"bootstrap: environment '{args.env}' cannot be set up:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        print("Nothing was run. Fix the file and run again.", file=sys.stderr)
        return 2
    steps = steps_for(env, Options(args.network, args.subnet_range))
    dep = env.deployment
    if args.dry_run:
        print(f"# bootstrap {dep.name}: project {dep.project}, region {dep.region} (dry run)")
        count = dry_run(steps, print)
        print(f"# {count} command(s); none was run.")
        print("# Then, by hand:")
        for number, item in enumerate(left_to_do(env, trigger_deployed=False), 1):
            print(f"#   {number}. " + item.replace("\n", "\n#   "))
        return 0
    runner = Runner(echo=(lambda text: print(f"    $ {text}")) if args.verbose else None)
    missing = runner.missing(programs(steps))
    if missing:
        print(
            f"bootstrap: {' and '.join(missing)} not on PATH (install the Google Cloud CLI, "
            "which ships both gcloud and bq)",
            file=sys.stderr,
        )
        return 1
    print(f"bootstrap {dep.name}: project {dep.project}, region {dep.region}")
    try:
        report = run(steps, runner, print)
    except (GcloudError, LookupError) as err:
        print(f"bootstrap: stopped: {err}", file=sys.stderr)
        print(
            "Everything before this step is in place; run again after fixing it.", file=sys.stderr
        )
        return 1
    print(f"{report.changes} change(s).")
    # Only the trigger function's steps wait (for it to be deployed) or differ (from the file).
    todo = report.notes + left_to_do(env, not report.any(Waiting), report.any(Differs))
    print("Left to do by hand:")
    for number, item in enumerate(todo, 1):
        print(f"  {number}. {item}")
    return 0
