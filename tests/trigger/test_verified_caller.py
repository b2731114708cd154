"""The caller is the one Cloud Run verified, over real HTTP: a forged scheduler token gets nothing.

Cloud Run checks X-Serverless-Authorization when a request carries it and passes Authorization on
unverified. These calls model what reaches the function then: a valid token of some invoker in
X-Serverless-Authorization (its signature replaced, as Cloud Run does), an unsigned token naming
the scheduler account in Authorization, and Cloud Scheduler's headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
FIRE = "2026-11-30T02:00:00Z"
JOB_ID = f"{h.ENV}-{SCHEDULE}-20261130t020000z"
OTHER_INVOKER = f"data-scientist@{h.PROJECT}.iam.gserviceaccount.com"
BODY = {
    "pipeline": h.PIPELINE,
    "schedule": SCHEDULE,
    "parameters": {"raw_data_path": "raw/latest.csv"},
}


@pytest.fixture(autouse=True)
def _fresh_leases(no_leases) -> None:
    """No slot of any schedule is taken when a test starts."""


@pytest.fixture(scope="module")
def deny_url(gcs, vertex_server, tmp_path_factory) -> Iterator[str]:
    """A second function process configured MANUAL_RUNS=deny, as prod is."""
    log = tmp_path_factory.mktemp("deny") / "function.log"
    env = h.function_env(vertex_server[1], STORAGE_EMULATOR_HOST=gcs, MANUAL_RUNS="deny")
    with h.serve_function(env, log) as url:
        yield url


def forged(**changes: str | None) -> dict[str, str]:
    """The hostile call's headers, with `changes` applied (None removes a header)."""
    headers = {
        **h.scheduler_headers(f"{h.PARENT}/jobs/{h.ENV}-{SCHEDULE}", FIRE),
        "X-Serverless-Authorization": h.verified_bearer(OTHER_INVOKER),
        "Authorization": h.bearer(h.INVOKER),  # unsigned, never checked by Cloud Run
    }
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def post(url: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=json.dumps(BODY), headers=headers, timeout=30)


@pytest.mark.parametrize("which", ["allow", "deny"])
def test_a_forged_scheduler_token_beside_a_verified_one_claims_no_fire(
    which, function_url, deny_url, vertex
):
    url = function_url if which == "allow" else deny_url

    resp = post(url, forged())

    assert resp.status_code == 403, resp.text
    assert "two identity headers name different callers" in resp.json()["error"]
    assert f"names '{OTHER_INVOKER}'" in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0
    with pytest.raises(KeyError):
        vertex.job(JOB_ID)
    # the real fire still runs when Cloud Scheduler delivers it
    real = post(url, h.scheduler_headers(f"{h.ENV}-{SCHEDULE}", FIRE))
    assert real.json()["outcome"] == "created", real.text
    assert vertex.job(JOB_ID).labels["trigger"] == "scheduler"


@pytest.mark.parametrize(
    "changes",
    [
        {"X-CloudScheduler-ScheduleTime": None},
        {"X-CloudScheduler-ScheduleTime": ""},
        {"X-CloudScheduler-JobName": None},
    ],
    ids=["no schedule time", "empty schedule time", "no job name"],
)
def test_incomplete_scheduler_headers_do_not_become_a_manual_run(
    changes, function_url, deny_url, vertex
):
    for url in (function_url, deny_url):
        from_scheduler = forged(**changes, X_Serverless_Authorization=None)
        refused = post(url, from_scheduler)
        assert refused.status_code == 400, refused.text
        assert "incomplete Cloud Scheduler headers" in refused.json()["error"]
        # and with another invoker's verified token the forged scheduler token changes nothing
        forged_call = post(url, forged(**changes))
        assert forged_call.status_code == 403, forged_call.text
    assert vertex.calls["CreatePipelineJob"] == 0


def test_the_scheduler_account_is_compared_exactly(function_url, vertex):
    kelvin = h.INVOKER.replace("k", "\u212a")  # lower-cases to the invoker's e-mail
    assert kelvin.lower() == h.INVOKER

    for email in (kelvin, h.INVOKER.upper()):
        resp = post(
            function_url, forged(X_Serverless_Authorization=None, Authorization=h.bearer(email))
        )
        assert resp.status_code == 403, resp.text
        assert "only accepted from the scheduler account" in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0


def test_the_scheduler_calling_through_x_serverless_authorization_is_a_fire(function_url, vertex):
    resp = post(
        function_url,
        forged(X_Serverless_Authorization=h.verified_bearer(h.INVOKER), Authorization=None),
    )

    assert resp.json()["outcome"] == "created", resp.text
    assert resp.json()["job_id"] == JOB_ID
