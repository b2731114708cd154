"""Talking to Cloud Scheduler: the client factory, paged listing and retries of transient errors."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.api_core import exceptions as gexc

T = TypeVar("T")

EMULATOR_ENV = "SCHEDULER_EMULATOR_HOST"
#: Cloud Scheduler's largest page.
MAX_PAGE_SIZE = 500
#: Per-call deadline, seconds; the library's own retry is off so that ours is the only one.
CALL_TIMEOUT = 30.0
TRANSIENT = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.TooManyRequests)


def make_client():
    """A CloudSchedulerClient: plain-text gRPC to `$SCHEDULER_EMULATOR_HOST` with no credentials
    when it is set (tests, local trials), otherwise Application Default Credentials."""
    from google.cloud import scheduler_v1

    host = os.environ.get(EMULATOR_ENV)
    if host:
        import grpc
        from google.cloud.scheduler_v1.services.cloud_scheduler.transports import (
            CloudSchedulerGrpcTransport,
        )

        # A transport built on our own channel sends no credentials at all (anonymous).
        channel = grpc.insecure_channel(host)
        return scheduler_v1.CloudSchedulerClient(
            transport=CloudSchedulerGrpcTransport(channel=channel)
        )
    return scheduler_v1.CloudSchedulerClient()


def make_storage_client(project: str):
    """A Cloud Storage client for the apply lock (`$STORAGE_EMULATOR_HOST` is honoured by the
    library itself: anonymous credentials against the emulator)."""
    from google.cloud import storage

    return storage.Client(project=project)


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter for UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()`, retried on transient errors; the last error is raised when attempts run out."""
        delay = self.initial
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except TRANSIENT:
                if attempt == self.attempts:
                    raise
                self.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self.maximum)
        raise AssertionError("unreachable")


@dataclass
class Listing:
    """Every job in a location, and how many ListJobs calls it took."""

    jobs: list
    calls: int


def list_jobs(client, parent: str, retry: RetryPolicy, page_size: int = MAX_PAGE_SIZE) -> Listing:
    """All jobs under `parent`, one ListJobs call per page (never a GetJob per job)."""
    jobs = []
    calls = 0
    token = ""
    while True:

        def fetch(token=token):
            pager = client.list_jobs(
                request={"parent": parent, "page_size": page_size, "page_token": token},
                retry=None,
                timeout=CALL_TIMEOUT,
            )
            # The pager already holds the first response; reading it costs no further call.
            return next(iter(pager.pages))

        calls += 1
        page = retry.call(fetch)
        jobs.extend(page.jobs)
        token = page.next_page_token
        if not token:
            return Listing(jobs, calls)
