"""Fixtures: the GCS emulator holding Spark-like outputs, the fake BigQuery, real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from fakes.bigquery import FakeBigQuery, gcs_reader, serve_bigquery
from fakes.gcs import gcs_emulator

BUCKET = "acme-churn-predictions"
PROJECT = "acme-analytics"
DATASET = f"{PROJECT}.churn_dev"


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    with gcs_emulator(buckets=(BUCKET,)) as host:
        yield host


@pytest.fixture
def gcs(emulator) -> storage.Client:
    client = storage.Client(project="test-project")
    for blob in list(client.list_blobs(BUCKET)):
        blob.delete()
    return client


@pytest.fixture(scope="session")
def bq_server(emulator) -> Iterator[tuple[FakeBigQuery, str]]:
    fake = FakeBigQuery(read_objects=gcs_reader(storage.Client(project="test-project")))
    with serve_bigquery(fake) as served:
        yield served


@pytest.fixture
def fake_bq(bq_server, gcs) -> FakeBigQuery:
    """The fake BigQuery, emptied, with the environment's dataset."""
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


def upload(gcs: storage.Client, prefix: str, files: dict[str, bytes]) -> str:
    """Put `files` under gs://BUCKET/prefix; the folder URI."""
    bucket = gcs.bucket(BUCKET)
    for name, data in files.items():
        bucket.blob(f"{prefix}/{name}").upload_from_string(data)
    return f"gs://{BUCKET}/{prefix}"
