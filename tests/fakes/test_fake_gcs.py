"""The GCS emulator honours request preconditions as the real API does (fakes/gcs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core import exceptions as gexc
from google.cloud import storage

from fakes.gcs import gcs_emulator

BUCKET = "fake-gcs-tests"


@pytest.fixture(scope="module")
def gcs() -> Iterator[str]:
    with gcs_emulator(buckets=(BUCKET,)) as host:
        yield host


@pytest.fixture
def blob(gcs):
    client = storage.Client(project="fake-gcs-tests")
    blob = client.bucket(BUCKET).blob("tests/precondition.json")
    if blob.exists():
        blob.delete()
    return blob


def test_generation_zero_means_only_if_absent(blob):
    blob.upload_from_string(b"first", if_generation_match=0)

    with pytest.raises(gexc.PreconditionFailed, match="ifGenerationMatch=0"):
        blob.upload_from_string(b"second", if_generation_match=0)
    assert blob.download_as_bytes() == b"first"


def test_a_write_naming_a_stale_generation_changes_nothing(blob):
    blob.upload_from_string(b"v1")
    blob.reload()
    stale = blob.generation
    blob.upload_from_string(b"v2", if_generation_match=stale)

    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v3", if_generation_match=stale)
    with pytest.raises(gexc.PreconditionFailed):
        blob.delete(if_generation_match=stale)
    assert blob.download_as_bytes() == b"v2"


def test_not_match_and_unconditional_writes(blob):
    blob.upload_from_string(b"v1")
    blob.reload()

    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v2", if_generation_not_match=blob.generation)
    blob.upload_from_string(b"v3")
    blob.delete()
    assert not blob.exists()
