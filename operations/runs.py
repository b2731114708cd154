"""Reading pipeline runs from Vertex AI: the PipelineService client and one paged, filtered list.

`status`, `backfill --dry-run` and `run` find a schedule's runs by the labels the trigger sets
(`contract.naming.job_labels`): never one call per run. The filter uses only what the
ListPipelineJobs reference promises: `labels.<key>="value"` equality, `create_time` comparisons
with RFC 3339 values, joined with AND. A read mask keeps each page small (no pipeline spec).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from scheduling.api import CALL_TIMEOUT, RetryPolicy

#: Same variable as the trigger's: `host:port` of a fake PipelineService (plain-text gRPC).
EMULATOR_ENV = "AIPLATFORM_EMULATOR_HOST"
#: The fields status needs of each run.
READ_MASK = ("name", "state", "labels", "create_time", "start_time", "end_time", "error")
#: Asked for per page; a service that pages smaller still works (we follow next_page_token).
PAGE_SIZE = 1000


def make_pipeline_client(region: str):
    """A PipelineServiceClient for `region` (`$AIPLATFORM_EMULATOR_HOST`: the fake, anonymous)."""
    from google.cloud import aiplatform_v1

    host = os.environ.get(EMULATOR_ENV)
    if host:
        import grpc
        from google.cloud.aiplatform_v1.services.pipeline_service.transports import (
            PipelineServiceGrpcTransport,
        )

        return aiplatform_v1.PipelineServiceClient(
            transport=PipelineServiceGrpcTransport(channel=grpc.insecure_channel(host))
        )
    return aiplatform_v1.PipelineServiceClient(
        client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"}
    )


def rfc3339(when: datetime) -> str:
    """`when` as the RFC 3339 UTC text a filter compares with."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quoted(value: str) -> str:
    """A filter string literal (label values are [a-z0-9_-]; quoting keeps it exact)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def runs_filter(labels: dict[str, str], created_after: datetime | None = None) -> str:
    """`labels.k="v" AND ... [AND create_time>"T"]` — only syntax the API reference documents."""
    parts = [f"labels.{key}={quoted(value)}" for key, value in sorted(labels.items())]
    if created_after is not None:
        parts.append(f"create_time>{quoted(rfc3339(created_after))}")
    return " AND ".join(parts)


@dataclass(frozen=True)
class Run:
    """One PipelineJob as status shows it."""

    job_id: str
    name: str
    state: str
    labels: dict[str, str]
    create_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    error: str = ""

    @property
    def schedule(self) -> str:
        return self.labels.get("schedule", "")

    @property
    def fire_stamp(self) -> str:
        return self.labels.get("fire-time", "")


@dataclass
class RunListing:
    """Runs read and how many ListPipelineJobs calls it took."""

    runs: list[Run]
    calls: int


def _time(pb, field: str) -> datetime | None:
    return getattr(pb, field).ToDatetime(tzinfo=UTC) if pb.HasField(field) else None


def to_run(job) -> Run:
    """A Run from a PipelineJob message (proto-plus), read through its raw protobuf: proto-plus
    attribute access costs ~25 us a field, which thousands of runs would feel."""
    pb = type(job).pb(job)
    return Run(
        job_id=pb.name.rsplit("/", 1)[-1],
        name=pb.name,
        state=_state_name(pb.state).removeprefix("PIPELINE_STATE_"),
        labels=dict(pb.labels),
        create_time=_time(pb, "create_time"),
        start_time=_time(pb, "start_time"),
        end_time=_time(pb, "end_time"),
        error=pb.error.message if pb.HasField("error") else "",
    )


def _state_name(value: int) -> str:
    from google.cloud.aiplatform_v1.types import pipeline_state

    return pipeline_state.PipelineState(value).name


def list_runs(
    client, parent: str, filter_text: str, retry: RetryPolicy, page_size: int = PAGE_SIZE
) -> RunListing:
    """Every run under `parent` matching `filter_text`, one call per page."""
    runs: list[Run] = []
    calls = 0
    token = ""
    while True:

        def fetch(token=token):
            return client.list_pipeline_jobs(
                request={
                    "parent": parent,
                    "filter": filter_text,
                    "page_size": page_size,
                    "page_token": token,
                    "read_mask": {"paths": list(READ_MASK)},
                },
                retry=None,
                timeout=CALL_TIMEOUT,
            )

        calls += 1
        pager = retry.call(fetch)
        page = next(iter(pager.pages))
        runs.extend(to_run(job) for job in page.pipeline_jobs)
        token = page.next_page_token
        if not token:
            return RunListing(runs, calls)


def console_link(project: str, region: str, job_id: str) -> str:
    """The run's page in the Google Cloud console."""
    return (
        f"https://console.cloud.google.com/vertex-ai/locations/{region}/pipelines/runs/"
        f"{job_id}?project={project}"
    )
