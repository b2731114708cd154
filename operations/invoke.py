"""Calling the trigger as Cloud Scheduler does: the invoker's ID token and one HTTPS POST.

`backfill` (and `run --param`) call the trigger themselves, with an ID token of the environment's
invoker account minted by the IAM Service Account Credentials API (generateIdToken). The
operator therefore needs roles/iam.serviceAccountOpenIdTokenCreator on the invoker account. The
trigger honours X-CloudScheduler-* headers only from that account, so a backfilled slot gets
exactly the job id and labels its scheduled fire would have had.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduling.api import CALL_TIMEOUT, RetryPolicy

#: `host:port` of a fake IAM Credentials service (plain-text gRPC, no credentials).
EMULATOR_ENV = "IAM_CREDENTIALS_EMULATOR_HOST"
#: Seconds one trigger call may take (the function answers well under its own 60 s timeout).
HTTP_TIMEOUT = 90.0


def make_iam_client():
    """An IAMCredentialsClient (`$IAM_CREDENTIALS_EMULATOR_HOST`: the fake, anonymous)."""
    from google.cloud import iam_credentials_v1

    host = os.environ.get(EMULATOR_ENV)
    if host:
        import grpc
        from google.cloud.iam_credentials_v1.services.iam_credentials.transports import (
            IAMCredentialsGrpcTransport,
        )

        return iam_credentials_v1.IAMCredentialsClient(
            transport=IAMCredentialsGrpcTransport(channel=grpc.insecure_channel(host))
        )
    return iam_credentials_v1.IAMCredentialsClient()


def id_token(client, account: str, audience: str, retry: RetryPolicy) -> str:
    """An OIDC ID token of `account` for `audience` (generateIdToken, with its e-mail claim)."""
    response = retry.call(
        lambda: client.generate_id_token(
            name=f"projects/-/serviceAccounts/{account}",
            audience=audience,
            include_email=True,
            retry=None,
            timeout=CALL_TIMEOUT,
        )
    )
    return response.token


def schedule_time_header(when: datetime) -> str:
    """X-CloudScheduler-ScheduleTime as Cloud Scheduler writes it (RFC 3339, UTC, 'Z')."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Answer:
    """The trigger's answer to one call."""

    status: int
    outcome: str
    job_id: str = ""
    message: str = ""
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def transient(self) -> bool:
        """Worth calling again: no answer, 429 or 5xx (the trigger's 503 says so)."""
        return self.status == 0 or self.status == 429 or self.status >= 500


def call_trigger(
    url: str,
    body: bytes,
    token: str,
    *,
    fire_time: datetime | None = None,
    scheduler_job: str | None = None,
) -> Answer:
    """POST `body` to the trigger; with `fire_time`, as that slot's scheduled fire."""
    import requests

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if fire_time is not None:
        headers.update(
            {
                "X-CloudScheduler": "true",
                "X-CloudScheduler-JobName": scheduler_job or "",
                "X-CloudScheduler-ScheduleTime": schedule_time_header(fire_time),
                # we wait out `skipped` ourselves: the trigger sends no alert for it
                "X-Churn-Backfill": "true",
            }
        )
    try:
        response = requests.post(url, data=body, headers=headers, timeout=HTTP_TIMEOUT)
    except requests.RequestException as err:
        return Answer(0, "unreachable", message=f"{type(err).__name__}: {err}")
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    message = payload.get("message") or payload.get("error") or response.text[:300]
    return Answer(
        response.status_code,
        str(payload.get("outcome") or f"http {response.status_code}"),
        str(payload.get("job_id") or ""),
        str(message),
        payload,
    )


def with_parameters(body: bytes, parameters: dict[str, Any]) -> bytes:
    """The job's trigger body with `parameters` set over its own (run --param)."""
    data = json.loads(body)
    data["parameters"] = {**data.get("parameters", {}), **parameters}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
