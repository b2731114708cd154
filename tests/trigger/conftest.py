"""Trigger test fixtures: GCS emulator with published templates, fake Vertex, the function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.gcs import gcs_emulator
from fakes.vertex import FakePipelineService, fake_vertex
from tests.trigger import trigger_harness as h

VERSIONS = ("v1", "v2")


@pytest.fixture(scope="session")
def gcs() -> Iterator[str]:
    """A GCS emulator with v1 and v2 published under BASE, latest -> v2."""
    with gcs_emulator(buckets=(h.BUCKET, "other-bucket")) as host:
        h.publish_templates(VERSIONS, latest="v2")
        yield host


@pytest.fixture(scope="session")
def vertex_server() -> Iterator[tuple[FakePipelineService, str]]:
    with fake_vertex() as served:
        yield served


@pytest.fixture
def vertex(vertex_server) -> FakePipelineService:
    """The fake PipelineService, emptied for each test."""
    fake, _ = vertex_server
    fake.reset()
    return fake


@pytest.fixture(scope="session")
def function_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("trigger") / "function.log"


@pytest.fixture(scope="session")
def function_url(gcs, vertex_server, function_log) -> Iterator[str]:
    """The function served by functions-framework in a subprocess, wired to both fakes."""
    _, address = vertex_server
    env = h.function_env(address, STORAGE_EMULATOR_HOST=gcs, LATEST_CACHE_SECONDS="0")
    with h.serve_function(env, function_log) as url:
        yield url


@pytest.fixture
def no_leases(gcs) -> None:
    """Remove every lease object, so slots taken by an earlier test's jobs (which the emptied
    fake Vertex no longer knows) do not count against this test's schedule."""
    from google.cloud import storage

    bucket = storage.Client(project=h.PROJECT).bucket(h.BUCKET)
    for blob in bucket.list_blobs(prefix=h.LEASE_ROOT.split("/", 3)[3] + "/"):
        blob.delete()
