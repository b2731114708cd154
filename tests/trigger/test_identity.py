"""Who is calling (pure): the token Cloud Run verified, and when Cloud Scheduler's headers count."""

from __future__ import annotations

import pytest
from identity import identify, token_email, verified_email
from trigger_request import TriggerError

from tests.trigger import trigger_harness as h

SCHEDULER = {
    "X-CloudScheduler": "true",
    "X-CloudScheduler-JobName": "test-weekly",
    "X-CloudScheduler-ScheduleTime": "2026-11-30T02:00:00Z",
}
OTHER = f"data-scientist@{h.PROJECT}.iam.gserviceaccount.com"


def test_the_email_claim_is_read_from_the_token_payload():
    assert token_email(h.bearer(h.INVOKER)) == h.INVOKER
    assert token_email(None) == token_email("") == ""


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", "is not 'Bearer <OIDC token>'"),
        ("Bearer ", "is not 'Bearer <OIDC token>'"),
        ("Bearer a.b", "not a JWT"),
        ("Bearer a.!!!.c", "payload is not base64url JSON"),
        ("Bearer a.bm90IGpzb24.c", "payload is not base64url JSON"),
    ],
)
def test_malformed_authorization_is_401(header, message):
    with pytest.raises(TriggerError, match=message) as err:
        token_email(header)
    assert err.value.status == 401


def test_the_caller_is_the_one_cloud_run_verified():
    verified = h.verified_bearer(OTHER)

    assert verified_email({"X-Serverless-Authorization": verified}) == OTHER
    assert verified_email({"Authorization": h.bearer(OTHER)}) == OTHER
    # the same caller in both headers (a client that fills both) is that caller
    both = {"X-Serverless-Authorization": verified, "Authorization": h.bearer(OTHER)}
    assert verified_email(both) == OTHER


@pytest.mark.parametrize(
    "authorization",
    [h.bearer(h.INVOKER), "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", h.bearer("")],
    ids=["the scheduler", "not a jwt", "basic", "no e-mail"],
)
def test_two_headers_naming_different_callers_are_refused(authorization):
    headers = {"X-Serverless-Authorization": h.verified_bearer(OTHER)}
    headers["Authorization"] = authorization

    with pytest.raises(TriggerError, match="two identity headers name different callers") as err:
        identify({**SCHEDULER, **headers}, h.INVOKER, manual_runs=True)
    assert err.value.status == 403
    assert f"X-Serverless-Authorization (the one Cloud Run verified) names '{OTHER}'" in str(
        err.value
    )


def test_scheduler_headers_count_only_from_the_scheduler_account():
    ok = identify({**SCHEDULER, "Authorization": h.bearer(h.INVOKER)}, h.INVOKER, True)
    assert (ok.scheduled, ok.schedule_time, ok.job_name) == (
        True,
        "2026-11-30T02:00:00Z",
        "test-weekly",
    )
    via_serverless = {**SCHEDULER, "X-Serverless-Authorization": h.verified_bearer(h.INVOKER)}
    assert identify(via_serverless, h.INVOKER, False).scheduled

    for headers in (
        {**SCHEDULER, "Authorization": h.bearer("someone@x.iam.gserviceaccount.com")},
        {"X-CloudScheduler-JobName": "dev-weekly"},
        {"X-CloudScheduler": "true", "Authorization": h.bearer("someone@example.com")},
    ):
        with pytest.raises(TriggerError, match="only accepted from the scheduler account") as err:
            identify(headers, h.INVOKER, True)
        assert err.value.status == 403


@pytest.mark.parametrize(
    "email",
    [h.INVOKER.upper(), h.INVOKER.replace("k", "\u212a"), h.INVOKER + " "],
    ids=["upper case", "kelvin sign", "trailing space"],
)
def test_the_scheduler_account_is_compared_exactly(email):
    assert "k" in h.INVOKER and h.INVOKER.replace("k", "\u212a").lower() == h.INVOKER

    with pytest.raises(TriggerError, match="only accepted from the scheduler account") as err:
        identify({**SCHEDULER, "Authorization": h.bearer(email)}, h.INVOKER, True)
    assert err.value.status == 403


@pytest.mark.parametrize(
    ("drop", "change", "message"),
    [
        ("X-CloudScheduler-ScheduleTime", {}, "X-CloudScheduler-ScheduleTime is missing"),
        ("X-CloudScheduler-JobName", {}, "X-CloudScheduler-JobName is missing"),
        ("X-CloudScheduler", {}, "X-CloudScheduler is missing"),
        (None, {"X-CloudScheduler-ScheduleTime": ""}, "X-CloudScheduler-ScheduleTime is empty"),
        (None, {"X-CloudScheduler-JobName": " "}, "X-CloudScheduler-JobName is empty"),
        (None, {"X-CloudScheduler": "false"}, "X-CloudScheduler is 'false', not 'true'"),
    ],
)
def test_incomplete_scheduler_headers_are_400_not_a_manual_run(drop, change, message):
    headers = {**SCHEDULER, **change, "Authorization": h.bearer(h.INVOKER)}
    headers.pop(drop, None)

    for manual_runs in (True, False):
        with pytest.raises(TriggerError, match="incomplete Cloud Scheduler headers") as err:
            identify(headers, h.INVOKER, manual_runs)
        assert err.value.status == 400
        assert message in err.value.message


def test_manual_calls_are_allowed_unless_turned_off():
    caller = identify({"Authorization": h.bearer("ds@example.com")}, h.INVOKER, True)
    assert (caller.email, caller.scheduled) == ("ds@example.com", False)

    with pytest.raises(TriggerError, match="manual runs are turned off") as err:
        identify({"Authorization": h.bearer(h.INVOKER)}, h.INVOKER, False)
    assert err.value.status == 403
