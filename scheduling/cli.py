"""`schedule.py validate | plan | apply | unlock | next`, and the on-call commands of
operations/cli.py (status | run | backfill | pause | resume): argument parsing and their flow.

Exit codes: 0 success (and, with --detailed-exitcode, no changes); 1 invalid files, a conflict,
a refused mass delete, a held lock, or an API failure; 2 with --detailed-exitcode when the plan
has changes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

import google.auth.exceptions
from google.api_core import exceptions as gexc

from contract.environment import Environment
from operations import cli as ops_cli
from scheduling import cron, render
from scheduling.api import MAX_PAGE_SIZE, RetryPolicy, list_jobs, make_client, make_storage_client
from scheduling.apply import Outcome, apply_plan
from scheduling.diff import MAX_SAFE_DELETE_SHARE, Plan, compute_plan
from scheduling.jobs import build_desired
from scheduling.lock import ApplyLock, LockError, current_commit, force_unlock, whoami
from scheduling.validate import Validated, validate_tree

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
#: The day-to-day operations (operations/cli.py).
OPS_COMMANDS = ("status", "pause", "resume", "run", "backfill")


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
    apply = sub.choices["apply"]
    apply.add_argument("--auto-approve", action="store_true", help="apply without asking")
    apply.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help=f"apply a plan that deletes every job the environment owns, or more than one job "
        f"and more than {MAX_SAFE_DELETE_SHARE * 100:.0f}%% of them (refused otherwise: a renamed "
        "folder or the wrong --env must not wipe an environment)",
    )
    apply.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another apply of the environment to finish (default: "
        "%(default)s, fail at once). The lock is gs://<template_base>/_locks/"
        "schedule-apply-<env>.json and expires 10 minutes after its holder last extended it",
    )

    unlock = sub.add_parser(
        "unlock",
        parents=[common],
        help="remove the apply lock left by an apply that died (like terraform force-unlock)",
    )
    unlock.add_argument("--env", required=True, help="environment whose lock to remove")
    unlock.add_argument(
        "--generation",
        type=int,
        required=True,
        help="the lock generation shown in the 'is locked' error (guards against removing a "
        "newer lock)",
    )

    nxt = sub.add_parser("next", parents=[common], help="next fire times of each schedule")
    nxt.add_argument("names", nargs="*", help="schedule names (default: all)")
    nxt.add_argument("--count", type=int, default=5, help="how many (default: %(default)s)")
    nxt.add_argument("--after", help="start from this ISO 8601 time instead of now")
    ops_cli.add_parsers(sub, common)
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
        if args.command == "unlock":
            return cmd_unlock(args)
        if args.command in OPS_COMMANDS:
            return cmd_ops(args, retry)
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


def _scheduler_client():
    """The Cloud Scheduler client, or None (reported) without credentials."""
    try:
        return make_client()
    except google.auth.exceptions.DefaultCredentialsError as err:
        print(
            f"no Google credentials: {err}\nRun `gcloud auth application-default login`, or set "
            "SCHEDULER_EMULATOR_HOST=host:port to use an emulator.",
            file=sys.stderr,
        )
        return None


def cmd_ops(args: argparse.Namespace, retry: RetryPolicy) -> int:
    """status / pause / resume / run / backfill (operations/cli.py)."""
    client = _scheduler_client()
    if client is None:
        return EXIT_ERROR
    if args.command == "status":
        return ops_cli.cmd_status(args, client, retry)
    if args.command in ("pause", "resume"):
        return ops_cli.cmd_hold(args, client, retry)
    return ops_cli.COMMANDS[args.command](args, client, retry)


def cmd_plan_or_apply(args: argparse.Namespace, retry: RetryPolicy) -> int:
    """`plan` and `apply` share everything up to the plan."""
    result = validate_tree(args.schedules, args.templates, only_env=args.env)
    if _report_problems(result):
        return EXIT_ERROR  # before any client exists: nothing contacts the API
    client = _scheduler_client()
    if client is None:
        return EXIT_ERROR
    if args.command == "apply":
        return run_apply(args, result, client, retry)
    plan = make_plan(args, result, client, retry)
    if plan is None:
        return EXIT_ERROR
    if args.json:
        print(json.dumps(render.plan_json(plan), indent=2, ensure_ascii=False, default=str))
    else:
        print(render.plan_text(plan))
    if plan.conflicts:
        return EXIT_ERROR
    return EXIT_CHANGES if (args.detailed_exitcode and plan.has_changes) else EXIT_OK


def _take_lock(env: Environment, wait: float) -> ApplyLock | None:
    """The environment's apply lock, held; None (reported) when it cannot be taken."""
    try:
        lock = ApplyLock(make_storage_client(env.project), env.template_base, env.name)
        lock.acquire(whoami(), current_commit(), wait=wait)
    except LockError as err:
        print(f"Nothing applied: {err}", file=sys.stderr)
        return None
    except (gexc.GoogleAPICallError, google.auth.exceptions.GoogleAuthError) as err:
        print(
            f"Nothing applied: cannot take the apply lock under {env.template_base}/: "
            f"{type(err).__name__}: {getattr(err, 'message', err)}",
            file=sys.stderr,
        )
        return None
    if lock.took_over is not None:
        print(f"Took over an expired apply lock ({lock.took_over.describe()}).", file=sys.stderr)
    return lock


def run_apply(args: argparse.Namespace, result: Validated, client, retry: RetryPolicy) -> int:
    """Lock the environment, plan under the lock, confirm, write, summarise, unlock."""
    lock = _take_lock(result.environments[args.env], args.lock_timeout)
    if lock is None:
        return EXIT_ERROR
    try:
        # Planned only once the lock is held: a plan made before another apply finished would
        # undo that apply's changes.
        plan = make_plan(args, result, client, retry)
        if plan is None:
            return EXIT_ERROR
        return _apply_planned(args, client, plan, retry, lock)
    finally:
        if not lock.release():
            print(
                f"warning: the apply lock {lock.uri} was no longer ours when releasing it "
                "(another apply took it over after it expired)",
                file=sys.stderr,
            )


def _apply_planned(
    args: argparse.Namespace, client, plan: Plan, retry: RetryPolicy, lock: ApplyLock
) -> int:
    print(render.plan_text(plan))
    if plan.conflicts:
        print("Nothing applied: resolve the conflicts above first.", file=sys.stderr)
        return EXIT_ERROR
    if not plan.has_changes:
        return EXIT_OK
    mass_delete = plan.mass_delete()
    if mass_delete and not args.allow_mass_delete:
        print(
            f"Nothing applied: {mass_delete}; if that is what you want, run apply again with "
            "--allow-mass-delete.",
            file=sys.stderr,
        )
        return EXIT_ERROR
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

    def keep_lock() -> str | None:
        try:
            lock.extend_if_due()
        except LockError as err:
            return str(err)
        except gexc.GoogleAPICallError as err:
            return f"cannot extend the apply lock {lock.uri}: {type(err).__name__}: {err.message}"
        return None

    outcome = apply_plan(client, plan, retry, before_each=keep_lock)
    return _summarise(outcome)


def _summarise(outcome: Outcome) -> int:
    print(
        f"\nApply {'complete' if outcome.ok else 'incomplete'}: {len(outcome.done)} action(s), "
        f"{outcome.writes} write(s), {len(outcome.failed)} failed."
    )
    if outcome.ok:
        return EXIT_OK
    for action, message in outcome.failed:
        print(f"  {action.kind.name} {action.job_id}: {message}", file=sys.stderr)
    print(
        "Run apply again once the cause is fixed; it picks up where this stopped.",
        file=sys.stderr,
    )
    return EXIT_ERROR


def cmd_unlock(args: argparse.Namespace) -> int:
    """`unlock`: remove a dead apply's lock, only if it is still the generation given."""
    result = validate_tree(args.schedules, None, only_env=args.env)
    env = result.environments.get(args.env)
    if env is None:
        _report_problems(result)
        return EXIT_ERROR
    try:
        removed = force_unlock(
            make_storage_client(env.project), env.template_base, env.name, args.generation
        )
    except LockError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR
    except (gexc.GoogleAPICallError, google.auth.exceptions.GoogleAuthError) as err:
        print(f"cannot remove the lock: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Removed the apply lock of environment '{env.name}' ({removed}).")
    return EXIT_OK
