"""`schedule.py status | run | backfill | pause | resume`: the day-to-day operations' commands.

Argument parsing and flow only; the logic is in `status`, `hold`, `backfill` and `invoke`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from google.api_core import exceptions as gexc

from contract.naming import label_value
from scheduling import hold, runs, status
from scheduling.api import MAX_PAGE_SIZE, RetryPolicy, list_jobs
from scheduling.jobs import is_owned, job_id, short_id
from scheduling.lock import whoami
from scheduling.spec import Environment
from scheduling.validate import validate_tree

EXIT_OK, EXIT_ERROR = 0, 1
#: A slot younger than this may still be on its way (delivery, retries): not reported missed.
DEFAULT_GRACE = "15m"


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add the operations' subcommands to schedule.py's parser."""
    st = sub.add_parser(
        "status", parents=[common], help="each schedule's state, last attempt, runs, missed fires"
    )
    st.add_argument("--env", required=True, help="environment")
    st.add_argument("names", nargs="*", help="schedule names (default: every job of the env)")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.add_argument("--runs", type=int, default=5, help="recent runs shown (default: 5)")
    st.add_argument("--window", default="7d", help="success rate / missed fires window (7d)")
    st.add_argument(
        "--grace",
        default=DEFAULT_GRACE,
        help="a slot younger than this is not yet called missed (default: %(default)s)",
    )
    st.add_argument("--now", help=argparse.SUPPRESS)
    st.add_argument("--page-size", type=int, default=runs.PAGE_SIZE, help=argparse.SUPPRESS)

    for name, text in (
        ("pause", "pause jobs and hold them paused across applies (the incident switch)"),
        ("resume", "lift the operator hold: resume the held jobs whose file says enabled"),
    ):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.add_argument("--env", required=True, help="environment")
        cmd.add_argument("names", nargs="*", help="schedule names")
        cmd.add_argument("--all", action="store_true", help="every job the environment owns")
    sub.choices["pause"].add_argument(
        "--reason", default="", help="why (recorded on each job with who and when)"
    )


def _environment(args) -> tuple[Environment | None, dict[str, bool]]:
    """The environment file and each schedule's `enabled`, reported and None when invalid."""
    result = validate_tree(args.schedules, None, only_env=args.env)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    env = result.environments.get(args.env)
    if result.problems or env is None:
        if env is None and not result.problems:
            print(f"no environment '{args.env}' in {args.schedules}/environments/", file=sys.stderr)
        return None, {}
    return env, {job_id(s.name, env): s.enabled for s in result.schedules}


def _owned_jobs(client, env: Environment, retry: RetryPolicy):
    """(owned jobs, list calls), or None (reported) when listing fails."""
    try:
        listing = list_jobs(client, env.parent, retry, page_size=MAX_PAGE_SIZE)
    except gexc.GoogleAPICallError as err:
        print(f"cannot list jobs in {env.parent}: {type(err).__name__}: {err.message}",
              file=sys.stderr)  # fmt: skip
        return None
    return [j for j in listing.jobs if is_owned(j, env)], listing.calls


def _select(jobs, env: Environment, names: list[str], every: bool):
    """The jobs named (by schedule name) or all of them; None (reported) on a bad selection."""
    if every == bool(names):
        print("name the schedules, or give --all (not both)", file=sys.stderr)
        return None
    if every:
        return jobs
    by_id = {short_id(j.name): j for j in jobs}
    missing = [n for n in names if job_id(n, env) not in by_id]
    if missing:
        print(f"no job of environment '{env.name}' for: {', '.join(missing)}", file=sys.stderr)
        return None
    return [by_id[job_id(n, env)] for n in names]


def cmd_hold(args, client, retry: RetryPolicy) -> int:
    """`pause` / `resume`: job by job, each reported; exit 1 if any failed."""
    env, enabled = _environment(args)
    if env is None:
        return EXIT_ERROR
    owned = _owned_jobs(client, env, retry)
    if owned is None:
        return EXIT_ERROR
    jobs = _select(owned[0], env, args.names, args.all)
    if jobs is None:
        return EXIT_ERROR
    if args.command == "pause":
        mark = hold.hold_value(whoami(), datetime.now(UTC), args.reason or "no reason given")
        results = [hold.pause_job(client, job, mark, retry) for job in jobs]
    else:
        results = [
            hold.resume_job(client, job, enabled.get(short_id(job.name), False), retry)
            for job in jobs
        ]
    print(f"{args.command} in environment {env.name} ({env.parent}): {len(results)} job(s)")
    for result in results:
        print(result.line())
    failed = sum(1 for r in results if not r.ok)
    print(f"{len(results) - failed} done, {failed} failed.")
    return EXIT_ERROR if failed else EXIT_OK


def cmd_status(args, client, retry: RetryPolicy, vertex=None) -> int:
    """`status`: two list calls (plus pages) for any number of schedules."""
    try:
        window = status.parse_window(args.window)
        grace = status.parse_window(args.grace)
    except ValueError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR
    if args.runs < 0:
        print("--runs must be 0 or more", file=sys.stderr)
        return EXIT_ERROR
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    env, _enabled = _environment(args)
    if env is None:
        return EXIT_ERROR
    owned = _owned_jobs(client, env, retry)
    if owned is None:
        return EXIT_ERROR
    views = [status.job_view(j, env.job_prefix) for j in owned[0]]
    if args.names:
        known = {v.schedule for v in views}
        missing = [n for n in args.names if n not in known]
        if missing:
            print(f"no job of environment '{env.name}' for: {', '.join(missing)} "
                  f"(jobs: {', '.join(sorted(known)) or 'none'})", file=sys.stderr)  # fmt: skip
            return EXIT_ERROR
        views = [v for v in views if v.schedule in args.names]
    vertex = vertex or runs.make_pipeline_client(env.region)
    flt = runs.runs_filter({"environment": label_value(env.name)}, now - window)
    try:
        listing = runs.list_runs(vertex, env.parent, flt, retry, page_size=args.page_size)
    except gexc.GoogleAPICallError as err:
        print(f"cannot list pipeline runs in {env.parent}: {type(err).__name__}: {err.message}",
              file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    items = [
        status.schedule_status(
            v,
            listing.runs,
            now=now,
            window=window,
            grace=grace,
            recent=args.runs,
            project=env.project,
            region=env.region,
        )
        for v in sorted(views, key=lambda v: v.schedule)
    ]
    calls = f"{owned[1]} ListJobs + {listing.calls} ListPipelineJobs call(s)"
    if args.json:
        meta = {"environment": env.name, "window": args.window,
                "calls": {"ListJobs": owned[1], "ListPipelineJobs": listing.calls}}  # fmt: skip
        print(json.dumps(status.status_json(items, now, meta), indent=2))
    else:
        print(status.status_text(items, now, args.window, calls))
    return EXIT_OK


#: Commands dispatched by name (run and backfill are added by their modules below).
COMMANDS: dict = {}
