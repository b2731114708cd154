"""Fixtures: the GCS emulator holding Spark-like outputs, the fake BigQuery, real clients."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from google.cloud import bigquery, storage

from fakes.bigquery import FakeBigQuery, bigquery_client, gcs_reader, serve_bigquery
from tests.served import served_emulator, served_fake

BUCKET = "acme-churn-predictions"
PROJECT = "acme-analytics"
DATASET = f"{PROJECT}.churn_dev"


gcs_server, gcs = served_emulator("gcs", (BUCKET,), scope="session")


@contextlib.contextmanager
def bigquery_reading_gcs() -> Iterator[tuple[FakeBigQuery, str]]:
    """The fake BigQuery, loading from the session's GCS emulator (STORAGE_EMULATOR_HOST)."""
    fake = FakeBigQuery(read_objects=gcs_reader(storage.Client(project="test-project")))
    with serve_bigquery(fake) as served:
        yield served


#: The fake BigQuery (once per session), emptied, with the environment's dataset.
bq_server, fake_bq = served_fake(
    "fake_bq",
    bigquery_reading_gcs,
    server="bq_server",
    scope="session",
    needs=("gcs",),
    server_needs=("gcs_server",),
    setup=lambda fake: fake.add_dataset(DATASET),
)


@pytest.fixture
def bq(bq_server, fake_bq) -> bigquery.Client:
    """The real BigQuery client pointed at the fake."""
    return bigquery_client(bq_server[1], PROJECT)


def upload(gcs: storage.Client, prefix: str, files: dict[str, bytes]) -> str:
    """Put `files` under gs://BUCKET/prefix; the folder URI."""
    bucket = gcs.bucket(BUCKET)
    for name, data in files.items():
        bucket.blob(f"{prefix}/{name}").upload_from_string(data)
    return f"gs://{BUCKET}/{prefix}"
