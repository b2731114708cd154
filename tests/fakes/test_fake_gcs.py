"""The GCS emulator keeps request preconditions as the real API does, whatever the import order,
and answers injected faults (fakes/gcs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc

from fakes import gcs as fake_gcs
from fakes.gcs import RefusedError, check
from tests.served import served_emulator

REPO = Path(__file__).resolve().parents[2]
BUCKET = "fake-gcs-tests"


gcs, client = served_emulator("client", (BUCKET,), server="gcs", project="fake-gcs-tests")


@pytest.fixture
def blob(client):
    return client.bucket(BUCKET).blob("tests/precondition.json")


def generation_of(client, name: str = "tests/precondition.json") -> int:
    return int(client.bucket(BUCKET).get_blob(name).generation)


def test_generation_zero_means_only_if_absent(blob):
    blob.upload_from_string(b"first", if_generation_match=0)

    with pytest.raises(gexc.PreconditionFailed, match="ifGenerationMatch=0"):
        blob.upload_from_string(b"second", if_generation_match=0)
    assert blob.download_as_bytes() == b"first"


def test_a_write_naming_a_stale_generation_changes_nothing(blob, client):
    blob.upload_from_string(b"v1")
    stale = generation_of(client)
    blob.upload_from_string(b"v2", if_generation_match=stale)

    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v3", if_generation_match=stale)
    with pytest.raises(gexc.PreconditionFailed):
        blob.delete(if_generation_match=stale)
    assert blob.download_as_bytes() == b"v2"


def test_a_generation_match_on_a_missing_object_fails(blob):
    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v1", if_generation_match=12345)
    assert not blob.exists()


def test_not_match_and_unconditional_writes(blob, client):
    blob.upload_from_string(b"v1")
    current = generation_of(client)

    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v2", if_generation_not_match=current)
    blob.upload_from_string(b"v3")
    blob.delete()
    assert not blob.exists()


def test_reads_pinned_to_a_generation_see_that_generation_or_fail(blob, client):
    blob.upload_from_string(b"v1")
    first = generation_of(client)
    assert blob.download_as_bytes(if_generation_match=first) == b"v1"
    blob.upload_from_string(b"v2")

    with pytest.raises(gexc.PreconditionFailed):
        blob.download_as_bytes(if_generation_match=first)
    with pytest.raises(gexc.PreconditionFailed):
        client.bucket(BUCKET).get_blob(blob.name, if_generation_match=first)
    # a failing NotMatch on a read is "not modified", not "precondition failed"
    with pytest.raises(gexc.NotModified):
        client.bucket(BUCKET).get_blob(blob.name, if_generation_not_match=generation_of(client))


def test_metageneration_conditions(blob, client):
    blob.upload_from_string(b"v1")
    # (the emulator starts an uploaded object at metageneration 2, the service at 1)
    current = int(client.bucket(BUCKET).get_blob(blob.name).metageneration)
    with pytest.raises(gexc.PreconditionFailed):
        blob.upload_from_string(b"v2", if_metageneration_match=current + 5)
    blob.upload_from_string(b"v2", if_metageneration_match=current)
    assert blob.download_as_bytes() == b"v2"


def test_copies_check_the_destination_and_the_source(blob, client):
    bucket = client.bucket(BUCKET)
    blob.upload_from_string(b"source")
    bucket.copy_blob(blob, bucket, "tests/copy.json", if_generation_match=0)

    with pytest.raises(gexc.PreconditionFailed):
        bucket.copy_blob(blob, bucket, "tests/copy.json", if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.copy_blob(blob, bucket, "tests/other.json", if_source_generation_match=1)
    assert bucket.blob("tests/other.json").exists() is False


def test_a_resumable_upload_cannot_replace_an_object_that_changed(blob, client):
    blob.upload_from_string(b"v1")
    seen = generation_of(client)
    big = client.bucket(BUCKET).blob(blob.name, chunk_size=256 * 1024)
    blob.upload_from_string(b"v2")  # changes after `seen` was read

    with pytest.raises(gexc.PreconditionFailed):
        big.upload_from_string(b"x" * (300 * 1024), if_generation_match=seen)
    assert blob.download_as_bytes() == b"v2"


def test_a_resumable_session_started_before_a_change_cannot_finish_after_it(blob, client):
    import requests

    blob.upload_from_string(b"v1")
    seen = generation_of(client)
    session = blob.create_resumable_upload_session(if_generation_match=seen)
    blob.upload_from_string(b"v2")  # changes while the session is open

    response = requests.put(session, data=b"v3", timeout=10)
    assert response.status_code == 412
    assert response.json()["error"]["errors"][0]["reason"] == "conditionNotMet"
    assert blob.download_as_bytes() == b"v2"


def test_a_precondition_that_is_not_a_number_is_a_bad_request(gcs, client):
    import requests

    response = requests.post(
        f"{gcs}/upload/storage/v1/b/{BUCKET}/o",
        params={"uploadType": "media", "name": "x", "ifGenerationMatch": "latest"},
        data=b"x",
        timeout=10,
    )
    assert response.status_code == 400
    assert "ifGenerationMatch" in response.json()["error"]["message"]
    assert not client.bucket(BUCKET).blob("x").exists()


def test_the_rules_themselves():
    live = {"generation": "5", "metageneration": "2"}
    check({"ifGenerationMatch": "5", "ifMetagenerationNotMatch": "1"}, live)
    check({"ifGenerationMatch": "0"}, None)
    refusals = [
        ({"ifGenerationMatch": "4"}, live, 412),
        ({"ifGenerationMatch": "0"}, live, 412),
        ({"ifGenerationNotMatch": "5"}, live, 412),
        ({"ifGenerationNotMatch": "0"}, None, 412),  # needs a live object
        ({"ifMetagenerationMatch": "1"}, None, 412),
        ({"ifGenerationMatch": "five"}, live, 400),
    ]
    for conditions, current, status in refusals:
        with pytest.raises(RefusedError) as refused:
            check(conditions, current)
        assert refused.value.status == status, conditions
    with pytest.raises(RefusedError) as refused:
        check({"ifGenerationNotMatch": "5"}, live, read=True)
    assert refused.value.status == 304


def test_injected_faults_fail_the_next_calls_and_a_landed_one_took_effect(gcs, blob):
    fake_gcs.inject_fault(gcs, "objects.insert", 503, times=1)
    with pytest.raises(gexc.ServiceUnavailable):
        blob.upload_from_string(b"v1", retry=None)
    assert not blob.exists()

    fake_gcs.inject_fault(gcs, "objects.insert", 503, lands=True)
    with pytest.raises(gexc.ServiceUnavailable):
        blob.upload_from_string(b"v2", retry=None)
    assert blob.download_as_bytes() == b"v2"  # written, only the answer was lost

    fake_gcs.inject_fault(gcs, "objects.get", 429, times=2)
    with pytest.raises(gexc.TooManyRequests):
        blob.download_as_bytes(retry=None)
    with pytest.raises(gexc.TooManyRequests):
        blob.reload(retry=None)
    assert blob.download_as_bytes(retry=None) == b"v2"


def test_faults_need_an_emulator_started_here():
    with pytest.raises(ValueError, match="no emulator"):
        fake_gcs.inject_fault("http://127.0.0.1:1", "objects.insert")


# Each order: what the process imports (and starts) before fakes.gcs keeps its rules.
_ORDERS = {
    "emulator modules first, a raw server already running": """
        from gcp_storage_emulator.handlers import objects
        from gcp_storage_emulator.server import create_server
        from fakes.base import LOCALHOST
        import fakes.gcs as g
        port = g.free_port()
        server = create_server(LOCALHOST, port, in_memory=True)
        server.start()
        g.enforce_preconditions()
        g.enforce_preconditions()  # twice: still one check per request
        url = f"http://{LOCALHOST}:{port}"
    """,
    "the registry and the lock before the fake": """
        import model_registry.store, scheduling.lock, contract.conditional
        from fakes.gcs import running_emulator
        served = running_emulator()  # kept: a collected generator would stop the server
        url = served.__enter__()
    """,
    "the fake first": """
        from fakes.gcs import running_emulator
        import gcp_storage_emulator.server
        served = running_emulator()  # kept: a collected generator would stop the server
        url = served.__enter__()
    """,
}
_PROBE = """
import os
from google.cloud import storage
from google.api_core import exceptions
os.environ["STORAGE_EMULATOR_HOST"] = url
client = storage.Client(project="probe")
client.create_bucket("probe")
blob = client.bucket("probe").blob("lock")
blob.upload_from_string(b"one", if_generation_match=0)
try:
    blob.upload_from_string(b"two", if_generation_match=0)
except exceptions.PreconditionFailed:
    print("refused", blob.download_as_bytes().decode(), flush=True)
os._exit(0)  # the emulator's server thread is not a daemon
"""


@pytest.mark.parametrize("order", sorted(_ORDERS))
def test_preconditions_hold_whatever_the_import_order(order):
    script = textwrap.dedent(_ORDERS[order]) + _PROBE
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1:] == ["refused one"], done.stderr[-2000:]
