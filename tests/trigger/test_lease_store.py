"""The trigger's lease store (gcp_clients.LeaseStore) over contract.conditional, against the GCS
emulator: generations, creation times, lost races, retried and unretried faults."""

from __future__ import annotations

import json
import time

import pytest
import requests
import trigger_harness as h
from gcp_clients import LeaseStore
from trigger_request import TriggerError

from fakes.gcs import clear_faults, inject_fault

PATH = "trigger-leases/unit/store.json"
SCHEDULE = "churn-lease-store"


@pytest.fixture
def store(gcs, no_leases) -> LeaseStore:
    clear_faults(gcs)
    return LeaseStore(h.PROJECT, timeout=2.0)


def test_an_absent_lease_then_one_written_with_its_server_time(store):
    assert store.read(h.BUCKET, PATH) == (None, 0, None)
    before = time.time() - 5
    assert store.write(h.BUCKET, PATH, b'{"holders": []}', 0) is True

    data, generation, created = store.read(h.BUCKET, PATH)
    assert data == b'{"holders": []}'
    assert isinstance(generation, int) and generation > 0
    assert before <= created <= time.time() + 5


def test_a_write_on_a_stale_generation_loses(store):
    store.write(h.BUCKET, PATH, b"first", 0)
    _, seen, _ = store.read(h.BUCKET, PATH)
    assert store.write(h.BUCKET, PATH, b"second", seen) is True
    assert store.write(h.BUCKET, PATH, b"third", seen) is False
    assert store.write(h.BUCKET, PATH, b"again", 0) is False
    assert store.read(h.BUCKET, PATH)[0] == b"second"


def test_transient_faults_are_retried_and_a_lost_answer_is_ours(store, gcs):
    inject_fault(gcs, "objects.insert", 503)
    assert store.write(h.BUCKET, PATH, b'{"job": "a"}', 0) is True
    inject_fault(gcs, "objects.insert", 503, lands=True)
    _, seen, _ = store.read(h.BUCKET, PATH)
    assert store.write(h.BUCKET, PATH, b'{"job": "b"}', seen) is True
    inject_fault(gcs, "objects.get", 429)
    assert store.read(h.BUCKET, PATH)[0] == b'{"job": "b"}'


def test_faults_that_persist_past_the_timeout_are_a_503_and_others_a_502(store, gcs):
    inject_fault(gcs, "objects.get", 503, times=100)
    started = time.monotonic()
    with pytest.raises(TriggerError) as err:
        store.read(h.BUCKET, PATH)
    assert (err.value.status, err.value.outcome) == (503, "transient")
    assert time.monotonic() - started < 2.0 + 2.0  # deadline + one request timeout
    clear_faults(gcs)

    inject_fault(gcs, "objects.insert", 403, reason="forbidden")
    with pytest.raises(TriggerError) as err:
        store.write(h.BUCKET, PATH, b"x", 0)
    assert err.value.status == 502


def test_a_fire_whose_lease_write_meets_a_503_still_creates_its_job(
    function_url, vertex, gcs, no_leases
):
    inject_fault(gcs, "objects.insert", 503)
    body = {
        "pipeline": h.PIPELINE,
        "schedule": SCHEDULE,
        "max_concurrent_runs": 1,
        "parameters": {"raw_data_path": "raw/latest.csv"},
    }
    headers = h.scheduler_headers(f"{h.ENV}-{SCHEDULE}", "2026-11-30T02:00:00Z")
    resp = requests.post(function_url, data=json.dumps(body), headers=headers, timeout=60)

    assert resp.status_code == 200, resp.text
    assert resp.json()["outcome"] == "created", resp.text
    assert vertex.calls["CreatePipelineJob"] == 1
