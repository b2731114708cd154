"""`schedule.py validate | plan | apply | next` — argument parsing and the commands' flow.

Exit codes: 0 success (and, with --detailed-exitcode, no changes); 1 invalid files, a conflict,
or an API failure; 2 with --detailed-exitcode when the plan has changes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

import google.auth.exceptions
from google.api_core import exceptions as gexc

from scheduling import cron, render
from scheduling.api import MAX_PAGE_SIZE, RetryPolicy, list_jobs, make_client
from scheduling.apply import apply_plan
from scheduling.diff import Plan, compute_plan
from scheduling.jobs import build_desired
from scheduling.validate import Validated, validate_tree

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The command line of schedule.py."""
    parser = argparse.ArgumentParser(
        prog="schedule.py",
        description="Schedules as code: schedules/*.yaml reconciled into Cloud Scheduler jobs.",
        epilog="Exit codes: 0 ok, 1 error (invalid files, conflict, API failure), "
        "2 changes pending (plan --detailed-exitcode). SCHEDULER_EMULATOR_HOST=host:port "
        "talks plain-text gRPC to an emulator instead of Google.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--schedules", default="schedules", help="schedule files (default: %(default)s)"
    )
    common.add_argument(
        "--templates",
        default="build/vertex",
        help="compiled pipeline templates to check parameters against (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser(
        "validate", parents=[common], help="check every file, contact nothing"
    )
    validate.add_argument("--env", help="check against this environment only (default: all)")

    for name, text in (("plan", "show what apply would change"), ("apply", "make the changes")):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.add_argument(
            "--env", required=True, help="environment (schedules/environments/<env>.yaml)"
        )
        cmd.add_argument("--page-size", type=int, default=MAX_PAGE_SIZE, help=argparse.SUPPRESS)
    plan = sub.choices["plan"]
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes"
    )
    sub.choices["apply"].add_argument(
        "--auto-approve", action="store_true", help="apply without asking"
    )

    nxt = sub.add_parser("next", parents=[common], help="next fire times of each schedule")
    nxt.add_argument("names", nargs="*", help="schedule names (default: all)")
    nxt.add_argument("--count", type=int, default=5, help="how many (default: %(default)s)")
    nxt.add_argument("--after", help="start from this ISO 8601 time instead of now")
    return parser


def main(argv: list[str] | None = None, *, retry: RetryPolicy | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    retry = retry or RetryPolicy()
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "next":
            return cmd_next(args)
        return cmd_plan_or_apply(args, retry)
    except BrokenPipeError:
        # The reader went away (`| head`); say nothing more on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


def _report_problems(result: Validated) -> bool:
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems:
        print(f"{len(result.problems)} problem(s) found; nothing was contacted.", file=sys.stderr)
    return bool(result.problems)


def cmd_validate(args: argparse.Namespace) -> int:
    """`validate`: every problem in every file, each as file:line: message."""
    result = validate_tree(args.schedules, args.templates, only_env=args.env)
    if _report_problems(result):
        return EXIT_ERROR
    envs = ", ".join(sorted(result.environments)) or "none"
    print(f"{len(result.schedules)} schedule(s) valid (environments: {envs}).")
    return EXIT_OK


def cmd_next(args: argparse.Namespace) -> int:
    """`next`: the coming fire times of each schedule in its own time zone."""
    if args.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    try:
        after = datetime.fromisoformat(args.after) if args.after else datetime.now(UTC)
    except ValueError:
        print(f"--after '{args.after}' is not an ISO 8601 time", file=sys.stderr)
        return EXIT_ERROR
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    result = validate_tree(args.schedules, None)
    if _report_problems(result):
        return EXIT_ERROR
    schedules = result.schedules
    if args.names:
        known = {s.name for s in schedules}
        missing = [n for n in args.names if n not in known]
        if missing:
            print(f"no such schedule: {', '.join(missing)}", file=sys.stderr)
            return EXIT_ERROR
        schedules = [s for s in schedules if s.name in args.names]
    rows = [
        (s.name, s.cron, s.time_zone, cron.next_fire_times(s.cron, s.time_zone, after, args.count))
        for s in schedules
    ]
    print(render.fire_times_text(rows))
    return EXIT_OK


def make_plan(
    args: argparse.Namespace, result: Validated, client, retry: RetryPolicy
) -> Plan | None:
    """List the jobs and compute the plan for validated files; None (reported) on API failure."""
    env = result.environments[args.env]
    desired = build_desired(result.schedules, env, result.parameters)
    try:
        listing = list_jobs(client, env.parent, retry, page_size=args.page_size)
    except gexc.GoogleAPICallError as err:
        print(
            f"cannot list jobs in {env.parent}: {type(err).__name__}: {err.message}",
            file=sys.stderr,
        )
        return None
    plan = compute_plan(desired, listing.jobs, env)
    plan.list_calls, plan.listed = listing.calls, len(listing.jobs)
    return plan


def cmd_plan_or_apply(args: argparse.Namespace, retry: RetryPolicy) -> int:
    """`plan` and `apply` share everything up to the plan."""
    result = validate_tree(args.schedules, args.templates, only_env=args.env)
    if _report_problems(result):
        return EXIT_ERROR  # before any client exists: nothing contacts the API
    try:
        client = make_client()
    except google.auth.exceptions.DefaultCredentialsError as err:
        print(
            f"no Google credentials: {err}\nRun `gcloud auth application-default login`, or set "
            "SCHEDULER_EMULATOR_HOST=host:port to use an emulator.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    plan = make_plan(args, result, client, retry)
    if plan is None:
        return EXIT_ERROR
    if args.command == "plan":
        if args.json:
            print(json.dumps(render.plan_json(plan), indent=2, ensure_ascii=False, default=str))
        else:
            print(render.plan_text(plan))
        if plan.conflicts:
            return EXIT_ERROR
        return EXIT_CHANGES if (args.detailed_exitcode and plan.has_changes) else EXIT_OK
    return run_apply(args, client, plan, retry)


def run_apply(args: argparse.Namespace, client, plan: Plan, retry: RetryPolicy) -> int:
    """Show the plan, confirm, write, and summarise."""
    print(render.plan_text(plan))
    if plan.conflicts:
        print("Nothing applied: resolve the conflicts above first.", file=sys.stderr)
        return EXIT_ERROR
    if not plan.has_changes:
        return EXIT_OK
    if not args.auto_approve:
        if not sys.stdin.isatty():
            print(
                "Refusing to apply without --auto-approve when not run from a terminal.",
                file=sys.stderr,
            )
            return EXIT_ERROR
        answer = input("\nApply these changes? Only 'yes' is accepted: ")
        if answer.strip() != "yes":
            print("Apply cancelled; nothing changed.")
            return EXIT_ERROR
    print("")
    outcome = apply_plan(client, plan, retry)
    print(
        f"\nApply {'complete' if outcome.ok else 'incomplete'}: {len(outcome.done)} action(s), "
        f"{outcome.writes} write(s), {len(outcome.failed)} failed."
    )
    if not outcome.ok:
        for action, message in outcome.failed:
            print(f"  {action.kind} {action.job_id}: {message}", file=sys.stderr)
        print(
            "Run apply again once the cause is fixed; it picks up where this stopped.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK
