"""Who is calling: the e-mail in the OIDC token, and whether Cloud Scheduler's headers count.

Cloud Functions (2nd gen) / Cloud Run check the token's signature and audience and that the
caller may invoke the function before a request reaches this code, so only the payload is read
here (no signature check, no network). What the platform does not check is *which* invoker is
calling: any account with the invoker role could send X-CloudScheduler-* headers and claim a
fire's deterministic job id. So those headers are honoured only from the configured scheduler
account.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from trigger_request import TriggerError

from contract.request import SCHEDULER_HEADERS


@dataclass(frozen=True)
class Caller:
    """The verified caller (e-mail from the token, '' when there is none) and how it called."""

    email: str
    scheduled: bool  # Cloud Scheduler headers present and honoured


def token_email(authorization: str | None) -> str:
    """The `email` claim of `Authorization: Bearer <JWT>`, or '' when there is none.

    A malformed token is answered 401: the platform would not have let it through, so it means
    the function is reachable without authentication, which the README's setup forbids.
    """
    if not authorization:
        return ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TriggerError(401, "Authorization header is not 'Bearer <OIDC token>'")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TriggerError(401, "the bearer token is not a JWT (header.payload.signature)")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        raise TriggerError(401, "the bearer token's payload is not base64url JSON") from None
    email = claims.get("email") if isinstance(claims, dict) else None
    return email if isinstance(email, str) else ""


def identify(headers: Mapping[str, str], scheduler_invoker: str, manual_runs: bool) -> Caller:
    """The caller of a request; 403 when it claims to be Cloud Scheduler and is not, or makes
    a manual call where manual runs are turned off."""
    email = token_email(headers.get("Authorization"))
    claims_scheduler = any(headers.get(name) is not None for name in SCHEDULER_HEADERS)
    if claims_scheduler:
        if email.lower() != scheduler_invoker.lower():
            who = f"'{email}'" if email else "a caller without an OIDC token e-mail"
            raise TriggerError(
                403,
                f"X-CloudScheduler-* headers are only accepted from the scheduler account "
                f"{scheduler_invoker}, and {who} sent them; call without those headers for a "
                "manual run",
            )
        return Caller(email, scheduled=True)
    if not manual_runs:
        raise TriggerError(
            403, "manual runs are turned off (MANUAL_RUNS=deny); only Cloud Scheduler may call"
        )
    return Caller(email, scheduled=False)
