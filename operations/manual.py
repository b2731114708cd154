"""The I/O behind `run` and `backfill`: finding the run a RunJob made, calling the trigger as the
invoker (ID token via IAM Credentials), typed `--param` values."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from google.api_core import exceptions as gexc
from google.cloud.scheduler_v1 import types

from contract.environment import Environment
from contract.naming import label_value, schedule_label
from contract.params import check_caller_parameters
from contract.values import value_problems
from operations import backfill, invoke, runs, status
from scheduling.api import CALL_TIMEOUT, RetryPolicy
from scheduling.params import load_catalog, schedule_declarations

EXIT_OK, EXIT_ERROR = 0, 1
#: ID tokens live an hour; a fresh one is minted well before that during long backfills.
TOKEN_LIFETIME = 45 * 60.0


class TokenSource:
    """The invoker's ID token for the trigger, minted on first use and renewed when old."""

    def __init__(self, account: str, audience: str, retry: RetryPolicy) -> None:
        self.account, self.audience, self.retry = account, audience, retry
        self._client = None
        self._token, self._at = "", 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() - self._at > TOKEN_LIFETIME:
                if self._client is None:
                    self._client = invoke.make_iam_client()
                self._token = invoke.id_token(self._client, self.account, self.audience, self.retry)
                self._at = time.monotonic()
            return self._token


def _target(job: types.Job) -> tuple[str, bytes, str, str]:
    """(url, body, invoker account, audience) of a job's HTTP target."""
    http = types.Job.pb(job).http_target
    return (
        http.uri,
        http.body,
        http.oidc_token.service_account_email,
        (http.oidc_token.audience or http.uri),
    )


def _token_or_report(tokens: TokenSource) -> bool:
    try:
        tokens()
    except gexc.PermissionDenied as err:
        print(
            f"cannot mint an ID token of {tokens.account}: {err.message}\nThe operator needs "
            "roles/iam.serviceAccountOpenIdTokenCreator on that account to call the trigger "
            "as Cloud Scheduler does.",
            file=sys.stderr,
        )
        return False
    except gexc.GoogleAPICallError as err:
        print(f"cannot mint an ID token of {tokens.account}: {type(err).__name__}: "
              f"{err.message}", file=sys.stderr)  # fmt: skip
        return False
    return True


def submit_slots(args, env: Environment, job, view, fires, retry: RetryPolicy):
    """Submit each slot as its scheduled fire; the results, or None (reported) without a token."""
    url, body, account, audience = _target(job)
    tokens = TokenSource(account, audience, retry)
    if fires and not _token_or_report(tokens):
        return None

    def call(when: datetime) -> invoke.Answer:
        return invoke.call_trigger(url, body, tokens(), fire_time=when, scheduler_job=view.job_id)

    submitter = backfill.Submitter(
        call, env.name, view.schedule, max_wait=args.max_wait, poll=args.poll
    )
    return backfill.submit_all(submitter, fires, args.max_parallel)


def await_run(args, env: Environment, client, vertex, job, schedule: str, started, retry) -> int:
    """Wait (bounded) for the run a RunJob made; print its id and link, or why there is none."""
    flt = runs.runs_filter(
        {"environment": label_value(env.name), "schedule": schedule_label(schedule)},
        started - timedelta(seconds=5),
    )
    deadline = time.monotonic() + args.wait
    while True:
        try:
            found = runs.list_runs(vertex, env.parent, flt, retry).runs
        except gexc.GoogleAPICallError as err:
            print(f"cannot list runs: {type(err).__name__}: {err.message}", file=sys.stderr)
            return EXIT_ERROR
        if found:
            run = max(found, key=lambda r: r.create_time or started)
            print(f"Run {run.job_id} ({run.state})")
            print(f"  {runs.console_link(env.project, env.region, run.job_id)}")
            return EXIT_OK
        if time.monotonic() >= deadline:
            break
        time.sleep(2.0)
    try:
        now = retry.call(lambda: client.get_job(name=job.name, retry=None, timeout=CALL_TIMEOUT))
        view = status.job_view(now, env.job_prefix)
        attempt = (
            f"last attempt {view.last_attempt.isoformat() if view.last_attempt else 'none'}: "
            + (
                "OK"
                if view.attempt_code == 0
                else f"code {view.attempt_code} {view.attempt_message}"
            )
        )
    except gexc.GoogleAPICallError as err:
        attempt = f"(cannot read the job: {err.message})"
    print(
        f"No run of {schedule} appeared within {args.wait:.0f}s; Cloud Scheduler's {attempt}. "
        "The trigger's log says why (`schedule.py status` shows it too).",
        file=sys.stderr,
    )
    return EXIT_ERROR


def parse_params(pairs: list[str]) -> tuple[dict[str, Any], list[str]]:
    """`k=v` pairs, values read as YAML scalars (as in a schedule file); problems by name."""
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            problems.append(f"--param '{pair}': expected NAME=VALUE")
            continue
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        if isinstance(value, (dict, list)) or value is None:
            value = text  # a parameter value is a scalar; keep what was typed
        values[name] = value
        problems += [f"--param {name}: {m}" for m in value_problems(value, f"parameter '{name}'")]
    return values, problems


def run_with_parameters(args, env: Environment, job, schedule: str, retry: RetryPolicy) -> int:
    """`run --param`: a manual call to the trigger as the invoker (fresh id, `trigger: manual`)."""
    import json

    url, body, account, audience = _target(job)
    values, problems = parse_params(args.param)
    current = json.loads(body)
    decls = load_catalog(args.templates).pipelines.get(current.get("pipeline", ""))
    if decls is None:
        problems.append(f"pipeline '{current.get('pipeline')}' has no template in {args.templates}")
    else:
        merged = {**current.get("parameters", {}), **values}
        _typed, errors = check_caller_parameters(schedule_declarations(decls), merged)
        problems += [f"--param {e}" for e in errors if e.name in values]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("Nothing was run.", file=sys.stderr)
        return EXIT_ERROR
    tokens = TokenSource(account, audience, retry)
    if not _token_or_report(tokens):
        return EXIT_ERROR
    answer = invoke.call_trigger(url, invoke.with_parameters(body, values), tokens())
    if answer.status != 200 or answer.outcome != "created":
        print(f"the trigger refused the run: HTTP {answer.status} {answer.outcome}: "
              f"{answer.message}", file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    print(f"Manual run {answer.job_id} of {schedule} with {values} (as {account}, "
          f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')})")  # fmt: skip
    print(f"  {runs.console_link(env.project, env.region, answer.job_id)}")
    return EXIT_OK
