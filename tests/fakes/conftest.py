"""Fixtures of the fakes' own tests: one server per fake and module, emptied for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from fakes.bigquery import FakeBigQuery, gcs_reader, serve_bigquery
from fakes.gcs import gcs_emulator
from fakes.scheduler import FakeScheduler, running_scheduler
from fakes.vertex import FakePipelineService, fake_vertex

PROJECT = "acme-analytics"
DATASET = f"{PROJECT}.churn_dev"


@pytest.fixture(scope="module")
def vertex_server() -> Iterator[tuple[FakePipelineService, str]]:
    with fake_vertex() as served:
        yield served


@pytest.fixture
def vertex(vertex_server, monkeypatch) -> FakePipelineService:
    """The fake Vertex AI, emptied, with AIPLATFORM_EMULATOR_HOST pointing at it."""
    service, host = vertex_server
    service.reset()
    monkeypatch.setenv("AIPLATFORM_EMULATOR_HOST", host)
    return service


@pytest.fixture(scope="module")
def scheduler_server() -> Iterator[tuple[FakeScheduler, str]]:
    with running_scheduler() as served:
        yield served


@pytest.fixture
def fake(scheduler_server, monkeypatch) -> FakeScheduler:
    """The fake Cloud Scheduler, emptied, with SCHEDULER_EMULATOR_HOST pointing at it."""
    fake, host = scheduler_server
    with fake.lock:
        fake.jobs.clear()
        fake.faults.clear()
        fake.deliveries.clear()
        fake.calls.clear()
        fake.latency.clear()
    monkeypatch.setenv("SCHEDULER_EMULATOR_HOST", host)
    return fake


@pytest.fixture(scope="module")
def bq_server() -> Iterator[tuple[FakeBigQuery, str]]:
    with gcs_emulator(buckets=("fake-bq-sources",)):
        fake = FakeBigQuery(read_objects=gcs_reader(storage.Client(project="test-project")))
        with serve_bigquery(fake) as served:
            yield served


@pytest.fixture
def fake_bq(bq_server) -> FakeBigQuery:
    """The fake BigQuery, emptied, with one dataset."""
    fake, _ = bq_server
    fake.reset()
    fake.add_dataset(DATASET)
    return fake


@pytest.fixture
def bq(bq_server, fake_bq) -> bigquery.Client:
    """The real BigQuery client pointed at the fake."""
    _, url = bq_server
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
