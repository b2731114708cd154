"""A lease holder dated in the future blocks its schedule no longer than the grace period.

The holder's age is judged by the lease object's server-side creation time (what the GCS
emulator reports as `timeCreated`), not by the `since` its writer put in. Over real HTTP, with a
function process whose LEASE_GRACE_SECONDS is short enough to wait out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
GRACE = 4.0
LEASE = f"{h.LEASE_ROOT.split('/', 3)[3]}/{h.ENV}/{SCHEDULE}.json"
TEN_YEARS = 10 * 365 * 24 * 3600


@pytest.fixture(scope="module")
def short_grace_url(gcs, vertex_server, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("grace") / "function.log"
    env = h.function_env(
        vertex_server[1], STORAGE_EMULATOR_HOST=gcs, LEASE_GRACE_SECONDS=str(GRACE)
    )
    with h.serve_function(env, log) as url:
        yield url


def fire(url: str, when: str) -> requests.Response:
    body = {
        "pipeline": h.PIPELINE,
        "schedule": SCHEDULE,
        "max_concurrent_runs": 1,
        "parameters": {"raw_data_path": "raw/latest.csv"},
    }
    headers = h.scheduler_headers(f"{h.ENV}-{SCHEDULE}", when)
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


def test_a_tampered_lease_dated_far_ahead_frees_its_slot_after_the_grace_period(
    short_grace_url, vertex, no_leases
):
    ghost = f"{h.PARENT}/pipelineJobs/{h.ENV}-{SCHEDULE}-ghost"  # never created: "being created"
    tampered = {"schedule": SCHEDULE, "holders": [{"job": ghost, "since": time.time() + TEN_YEARS}]}
    h.upload(LEASE, json.dumps(tampered).encode())
    time.sleep(GRACE + 0.5)

    resp = fire(short_grace_url, "2026-11-30T02:00:00Z")

    assert resp.status_code == 200, resp.text
    assert resp.json()["outcome"] == "created", resp.text
    holders = json.loads(h.read_object(LEASE))["holders"]
    assert [entry["job"] for entry in holders] == [resp.json()["job"]]
    assert holders[0]["since"] < time.time() + 1


def test_within_the_grace_period_the_holder_still_counts(short_grace_url, vertex, no_leases):
    ghost = f"{h.PARENT}/pipelineJobs/{h.ENV}-{SCHEDULE}-ghost"
    tampered = {"schedule": SCHEDULE, "holders": [{"job": ghost, "since": time.time() + TEN_YEARS}]}
    h.upload(LEASE, json.dumps(tampered).encode())

    resp = fire(short_grace_url, "2026-12-07T02:00:00Z")

    assert resp.json()["outcome"] == "skipped", resp.text
    assert vertex.calls["CreatePipelineJob"] == 0
