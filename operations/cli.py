"""`schedule.py status | run | backfill | pause | resume`: the day-to-day operations' commands.

Argument parsing and flow only; the logic is in `status`, `hold`, `backfill` and `invoke`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from google.api_core import exceptions as gexc

from contract.environment import Environment
from contract.naming import label_value, schedule_label
from operations import backfill, hold, manual, runs, status
from scheduling.api import CALL_TIMEOUT, MAX_PAGE_SIZE, RetryPolicy, list_jobs
from scheduling.jobs import is_owned, job_id, short_id
from scheduling.lock import whoami
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

    run = sub.add_parser(
        "run", parents=[common], help="one run now, through Cloud Scheduler RunJob"
    )
    run.add_argument("name", help="schedule name")
    run.add_argument("--env", required=True, help="environment")
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="set a schedule-owned parameter for this run (a manual call to the trigger as the "
        "invoker, not RunJob; see scheduling/README.md)",
    )
    run.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the run to appear (60)"
    )

    bf = sub.add_parser(
        "backfill", parents=[common], help="submit every cron slot of a range as its fire"
    )
    bf.add_argument("name", help="schedule name")
    bf.add_argument("--env", required=True, help="environment")
    bf.add_argument("--from", dest="start", required=True, help="first time (ISO 8601, inclusive)")
    bf.add_argument("--to", dest="end", required=True, help="end time (ISO 8601, exclusive)")
    bf.add_argument("--dry-run", action="store_true", help="list the slots and which already ran")
    bf.add_argument("--json", action="store_true", help="print JSON")
    bf.add_argument(
        "--max-parallel", type=int, default=1, help="slots submitted at once (default: 1)"
    )
    bf.add_argument(
        "--max-wait",
        type=float,
        default=600.0,
        help="seconds one slot may wait for max_concurrent_runs or a transient error (600)",
    )
    bf.add_argument("--poll", type=float, default=10.0, help=argparse.SUPPRESS)


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


def _scheduler_job(client, env: Environment, name: str, retry: RetryPolicy):
    """The schedule's job (GetJob), owned by the environment; None (reported) otherwise."""
    full = f"{env.parent}/jobs/{job_id(name, env)}"
    try:
        job = retry.call(lambda: client.get_job(name=full, retry=None, timeout=CALL_TIMEOUT))
    except gexc.NotFound:
        print(f"no job {full}: is '{name}' applied in '{env.name}'?", file=sys.stderr)
        return None
    except gexc.GoogleAPICallError as err:
        print(f"cannot read {full}: {type(err).__name__}: {err.message}", file=sys.stderr)
        return None
    if not is_owned(job, env):
        print(f"job {full} is not managed by environment '{env.name}'", file=sys.stderr)
        return None
    return job


def _schedule_of(job, env: Environment) -> str:
    return status.job_view(job, env.job_prefix).schedule


def cmd_run(args, client, retry: RetryPolicy, vertex=None) -> int:
    """`run`: RunJob (same identity, body and checks as a fire); with --param a manual call."""
    env, _ = _environment(args)
    if env is None:
        return EXIT_ERROR
    job = _scheduler_job(client, env, args.name, retry)
    if job is None:
        return EXIT_ERROR
    schedule = _schedule_of(job, env)
    if args.param:
        return manual.run_with_parameters(args, env, job, schedule, retry)
    view = status.job_view(job, env.job_prefix)
    if view.state != "ENABLED":
        held = f", held by operator ({view.hold})" if view.hold else ""
        print(f"note: {job.name} is {view.state}{held}; this run goes ahead anyway.")
    started = datetime.now(UTC)
    try:
        retry.call(lambda: client.run_job(name=job.name, retry=None, timeout=CALL_TIMEOUT))
    except gexc.GoogleAPICallError as err:
        print(f"RunJob {job.name} failed: {type(err).__name__}: {err.message}", file=sys.stderr)
        return EXIT_ERROR
    print(f"RunJob sent: {job.name} fires now as {env.invoker_service_account}.")
    vertex = vertex or runs.make_pipeline_client(env.region)
    return manual.await_run(args, env, client, vertex, job, schedule, started, retry)


def cmd_backfill(args, client, retry: RetryPolicy, vertex=None) -> int:
    """`backfill`: every slot of [--from, --to) as its scheduled fire (or the --dry-run list)."""
    env, _ = _environment(args)
    if env is None:
        return EXIT_ERROR
    if args.max_parallel < 1:
        print("--max-parallel must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    job = _scheduler_job(client, env, args.name, retry)
    if job is None:
        return EXIT_ERROR
    view = status.job_view(job, env.job_prefix)
    try:
        start = backfill.parse_time(args.start, view.time_zone, "--from")
        end = backfill.parse_time(args.end, view.time_zone, "--to")
        fires = backfill.slots_in(view.cron, view.time_zone, start, end)
    except ValueError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR
    if args.dry_run:
        vertex = vertex or runs.make_pipeline_client(env.region)
        flt = runs.runs_filter(
            {"environment": label_value(env.name), "schedule": schedule_label(view.schedule)}
        )
        try:
            listing = runs.list_runs(vertex, env.parent, flt, retry)
        except gexc.GoogleAPICallError as err:
            print(f"cannot list runs: {type(err).__name__}: {err.message}", file=sys.stderr)
            return EXIT_ERROR
        ran = {r.fire_stamp: (r.job_id, r.state) for r in listing.runs if r.fire_stamp}
        results = backfill.dry_run(env.name, view.schedule, fires, ran)
    else:
        results = manual.submit_slots(args, env, job, view, fires, retry)
        if results is None:
            return EXIT_ERROR
    _print_backfill(args, env, view, results)
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERROR


def _print_backfill(args, env: Environment, view, results) -> None:
    if args.json:
        print(json.dumps({
            "environment": env.name, "schedule": view.schedule, "job": view.job_id,
            "dry_run": args.dry_run, "cron": view.cron, "time_zone": view.time_zone,
            "slots": [{"fire_time": backfill.utc(r.fire_time),
                       "fire_time_local": r.fire_time.isoformat(), "job_id": r.job_id,
                       "outcome": r.outcome, "detail": r.detail or None} for r in results],
        }, indent=2))  # fmt: skip
        return
    what = "dry run" if args.dry_run else "backfill"
    print(f'{what} of {view.schedule} ({view.job_id}) "{view.cron}" {view.time_zone}: '
          f"{len(results)} slot(s)")  # fmt: skip
    for r in results:
        detail = f" ({r.detail})" if r.detail else ""
        print(f"  {backfill.utc(r.fire_time)}  {r.fire_time.isoformat():<25}  "
              f"{r.outcome:<13} {r.job_id}{detail}")  # fmt: skip
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no slots in the range")


#: Commands dispatched by name.
COMMANDS = {"run": cmd_run, "backfill": cmd_backfill}
