"""Who is calling: the e-mail of the token Cloud Run verified, and whether Cloud Scheduler's headers
count.

Cloud Run (which serves Cloud Functions 2nd gen) checks an ID token's signature and audience and
that its account may invoke the function before a request reaches this code, so only the payload
is read here (no second signature check, no network). Which header it checks matters: a token may
come in `Authorization: Bearer` or in `X-Serverless-Authorization: Bearer`, and when both are sent
Cloud Run checks X-Serverless-Authorization only and passes Authorization through to the function
unverified ("Authenticating service-to-service", Acquire and configure the ID token,
https://cloud.google.com/run/docs/authenticating/service-to-service#acquire-token). So the caller
is the e-mail in X-Serverless-Authorization when present, else in Authorization, and a request
whose two headers name different callers is refused: otherwise any invoker could put its own
valid token in X-Serverless-Authorization and an unsigned one naming the scheduler in
Authorization. (Cloud Run also replaces the verified token's signature with
SIGNATURE_REMOVED_BY_GOOGLE, https://cloud.google.com/run/docs/troubleshooting#signature-removed,
which is why no signature is checked here either way.)

What the platform does not check is *which* invoker is calling: any account with the invoker role
could send X-CloudScheduler-* headers and claim a fire's deterministic job id. So those headers
are honoured only from the configured scheduler account, compared exactly: Google issues
service-account e-mails in lower case, and folding case would let another e-mail through
(`"\\u212a".lower() == "k"`, the Kelvin sign). Cloud Scheduler sends the three headers together
with every call of a unix-cron job (HttpTarget.headers, Cloud Scheduler API reference), so an
incomplete set is refused instead of being taken for a manual run.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from trigger_request import TriggerError

from contract.request import SCHEDULER_HEADERS

#: The header Cloud Run verifies instead of Authorization when a request carries both.
SERVERLESS_AUTHORIZATION = "X-Serverless-Authorization"


@dataclass(frozen=True)
class Caller:
    """The verified caller (e-mail from the token, '' when there is none) and how it called."""

    email: str
    scheduled: bool  # Cloud Scheduler headers present, complete and honoured
    schedule_time: str | None = None  # X-CloudScheduler-ScheduleTime of a scheduled call
    job_name: str | None = None  # X-CloudScheduler-JobName of a scheduled call


def token_email(authorization: str | None, header: str = "Authorization") -> str:
    """The `email` claim of `<header>: Bearer <JWT>`, or '' when there is no header.

    A malformed token is answered 401: the platform would not have let it through, so it means
    the function is reachable without authentication, which the README's setup forbids.
    """
    if not authorization:
        return ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TriggerError(401, f"{header} header is not 'Bearer <OIDC token>'")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TriggerError(
            401, f"the {header} bearer token is not a JWT (header.payload.signature)"
        )
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, RecursionError):
        raise TriggerError(
            401, f"the {header} bearer token's payload is not base64url JSON"
        ) from None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) else ""


def _claimed_email(authorization: str) -> str | None:
    """The e-mail an unverified Authorization header names ('' none, None: not a token)."""
    try:
        return token_email(authorization)
    except TriggerError:
        return None


def verified_email(headers: Mapping[str, str]) -> str:
    """The e-mail of the token Cloud Run verified; 403 when the other header names someone else."""
    serverless = headers.get(SERVERLESS_AUTHORIZATION)
    authorization = headers.get("Authorization")
    if serverless is None:
        return token_email(authorization)
    email = token_email(serverless, SERVERLESS_AUTHORIZATION)
    claimed = email if authorization is None else _claimed_email(authorization)
    if claimed != email:
        other = f"'{claimed}'" if claimed else "no OIDC token e-mail"
        raise TriggerError(
            403,
            f"the request's two identity headers name different callers: "
            f"{SERVERLESS_AUTHORIZATION} (the one Cloud Run verified) names "
            f"'{email or '(no e-mail)'}', Authorization (passed on unverified) names {other}; "
            "send one token, or the same one in both",
        )
    return email


def scheduler_headers_problem(headers: Mapping[str, str]) -> str | None:
    """Why the X-CloudScheduler* headers of a call are not the complete set Cloud Scheduler
    sends (`X-CloudScheduler: true`, a JobName and a ScheduleTime), or None."""
    wrong = [
        f"{name} is {'missing' if headers.get(name) is None else 'empty'}"
        for name in SCHEDULER_HEADERS
        if not (headers.get(name) or "").strip()
    ]
    flag = (headers.get("X-CloudScheduler") or "").strip()
    if flag and flag.lower() != "true":
        wrong.append(f"X-CloudScheduler is '{flag:.20}', not 'true'")
    if not wrong:
        return None
    return (
        "incomplete Cloud Scheduler headers: "
        + "; ".join(wrong)
        + ". Cloud Scheduler sends X-CloudScheduler: true, X-CloudScheduler-JobName and "
        "X-CloudScheduler-ScheduleTime together; call without any of them for a manual run"
    )


def identify(headers: Mapping[str, str], scheduler_invoker: str, manual_runs: bool) -> Caller:
    """The caller of a request; 403 when it claims to be Cloud Scheduler and is not, or makes
    a manual call where manual runs are turned off; 400 for an incomplete set of Cloud
    Scheduler's headers."""
    email = verified_email(headers)
    claims_scheduler = any(headers.get(name) is not None for name in SCHEDULER_HEADERS)
    if claims_scheduler:
        if email != scheduler_invoker:
            who = f"'{email}'" if email else "a caller without an OIDC token e-mail"
            raise TriggerError(
                403,
                f"X-CloudScheduler-* headers are only accepted from the scheduler account "
                f"{scheduler_invoker}, and {who} sent them; call without those headers for a "
                "manual run",
            )
        problem = scheduler_headers_problem(headers)
        if problem:
            raise TriggerError(400, problem)
        return Caller(
            email,
            scheduled=True,
            schedule_time=headers.get("X-CloudScheduler-ScheduleTime"),
            job_name=headers.get("X-CloudScheduler-JobName"),
        )
    if not manual_runs:
        raise TriggerError(
            403, "manual runs are turned off (MANUAL_RUNS=deny); only Cloud Scheduler may call"
        )
    return Caller(email, scheduled=False)
