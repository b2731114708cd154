"""Fixtures of the fakes' own tests: one server per fake and module, emptied for each test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from google.cloud import bigquery, storage

from fakes.bigquery import FakeBigQuery, bigquery_client, gcs_reader, serve_bigquery
from fakes.gcs import gcs_emulator
from fakes.scheduler import running_scheduler
from fakes.vertex import fake_vertex
from tests.served import served_fake

PROJECT = "acme-analytics"
DATASET = f"{PROJECT}.churn_dev"


@contextlib.contextmanager
def bigquery_reading_gcs() -> Iterator[tuple[FakeBigQuery, str]]:
    """The fake BigQuery, loading from a GCS emulator of its own."""
    with gcs_emulator(buckets=("fake-bq-sources",)):
        fake = FakeBigQuery(read_objects=gcs_reader(storage.Client(project="test-project")))
        with serve_bigquery(fake) as served:
            yield served


vertex_server, vertex = served_fake("vertex", fake_vertex, env="AIPLATFORM_EMULATOR_HOST")
scheduler_server, fake = served_fake(
    "fake", running_scheduler, server="scheduler_server", env="SCHEDULER_EMULATOR_HOST"
)
bq_server, fake_bq = served_fake(
    "fake_bq", bigquery_reading_gcs, server="bq_server", setup=lambda f: f.add_dataset(DATASET)
)


@pytest.fixture
def bq(bq_server, fake_bq) -> bigquery.Client:
    """The real BigQuery client pointed at the fake (emptied, with one dataset)."""
    return bigquery_client(bq_server[1], PROJECT)
