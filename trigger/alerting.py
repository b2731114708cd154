"""The trigger's failure alert: a scheduled fire that produced no run is published to Pub/Sub.

"No run" is any answer but 2xx, or `skipped` (max_concurrent_runs reached). Only genuine fires
count: the caller is the configured invoker with Cloud Scheduler's headers. A backfill's
`skipped` is not alerted (BACKFILL_HEADER): it waits and submits the slot again itself.
Cloud Scheduler retries a non-2xx answer, and each attempt is one alert (the message's
`fire_time` tells repeats of one fire apart). Publishing is bounded (ALERTS_TIMEOUT_SECONDS,
no retry) and never changes the answer: a failed publication is logged and the call goes on.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

from contract import alerts

#: Sent by `schedule.py backfill`, which retries a `skipped` slot itself (so no alert for it).
BACKFILL_HEADER = "X-Churn-Backfill"
TOPIC = re.compile(r"^projects/[^/]+/topics/(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
_client = None
_lock = threading.Lock()


def topic_problem(topic: str) -> str | None:
    """Why ALERTS_TOPIC is unusable ('' = alerts off), or None."""
    if topic and not TOPIC.match(topic):
        return f"ALERTS_TOPIC '{topic:.120}' is not projects/PROJECT/topics/TOPIC"
    return None


def _publisher():
    global _client
    with _lock:
        if _client is None:
            from google import pubsub_v1

            host = os.environ.get("PUBSUB_EMULATOR_HOST")
            if host:
                import grpc
                from google.pubsub_v1.services.publisher.transports import (
                    PublisherGrpcTransport,
                )

                transport = PublisherGrpcTransport(channel=grpc.insecure_channel(host))
                _client = pubsub_v1.PublisherClient(transport=transport)
            else:
                _client = pubsub_v1.PublisherClient()
        return _client


def should_alert(scheduled: bool, status: int, outcome: str | None) -> bool:
    """Whether this answer means a scheduled fire produced no run."""
    return scheduled and (not 200 <= status < 300 or outcome == "skipped")


def publish_no_run(
    topic: str,
    *,
    environment: str,
    project: str,
    region: str,
    status: int,
    body: dict[str, Any],
    log: dict[str, Any],
    timeout: float,
) -> str:
    """Publish the alert; returns the message id, or raises (the caller logs it)."""
    from google.pubsub_v1 import types

    job_id = log.get("job_id") or ""
    outcome = body.get("outcome") or ""
    error = body.get("error") or body.get("message") or ""
    data, attributes = alerts.message(
        alerts.FIRE_WITHOUT_RUN,
        environment=environment,
        schedule=log.get("schedule") or "",
        fire_time=log.get("fire_time") or "",
        error=f"HTTP {status} {outcome}: {error}",
        step="trigger",
        job_id=job_id if outcome != "skipped" else "",
        link=alerts.console_link(project, region, job_id) if outcome == "already_exists" else "",
        state=outcome,
    )
    response = _publisher().publish(
        topic=topic,
        messages=[types.PubsubMessage(data=data, attributes=attributes)],
        retry=None,
        timeout=timeout,
    )
    return response.message_ids[0]
