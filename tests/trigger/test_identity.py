"""Who is calling (pure): the token's e-mail, and when Cloud Scheduler's headers count."""

from __future__ import annotations

import pytest
import trigger_harness as h
from identity import identify, token_email
from trigger_request import TriggerError

SCHEDULER = {"X-CloudScheduler-ScheduleTime": "2026-11-30T02:00:00Z"}


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


def test_scheduler_headers_count_only_from_the_scheduler_account():
    ok = identify({**SCHEDULER, "Authorization": h.bearer(h.INVOKER.upper())}, h.INVOKER, True)
    assert ok.scheduled

    for headers in (
        {**SCHEDULER, "Authorization": h.bearer("someone@x.iam.gserviceaccount.com")},
        {"X-CloudScheduler-JobName": "dev-weekly"},
        {"X-CloudScheduler": "true", "Authorization": h.bearer("someone@example.com")},
    ):
        with pytest.raises(TriggerError, match="only accepted from the scheduler account") as err:
            identify(headers, h.INVOKER, True)
        assert err.value.status == 403


def test_manual_calls_are_allowed_unless_turned_off():
    caller = identify({"Authorization": h.bearer("ds@example.com")}, h.INVOKER, True)
    assert (caller.email, caller.scheduled) == ("ds@example.com", False)

    with pytest.raises(TriggerError, match="manual runs are turned off") as err:
        identify({"Authorization": h.bearer(h.INVOKER)}, h.INVOKER, False)
    assert err.value.status == 403
