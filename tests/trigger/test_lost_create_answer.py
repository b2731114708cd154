"""CreatePipelineJob answered DEADLINE_EXCEEDED / UNAVAILABLE after the job was in fact created.

The fake Vertex stores the job and then answers with the error (`inject_fault(..., lands=True)`).
The trigger looks the fire's fixed job id up before it gives the slot back, answers or alerts.
Over real HTTP, with the failure alerts going to the fake Pub/Sub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import pytest
import requests

from fakes.pubsub import fake_pubsub
from tests.served import served_fake
from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
FIRE = "2026-11-30T02:00:00Z"
JOB_ID = f"{h.ENV}-{SCHEDULE}-20261130t020000z"
JOB = f"{h.PARENT}/pipelineJobs/{JOB_ID}"
TOPIC = f"projects/{h.PROJECT}/topics/churn-alerts"
LEASE = f"{h.LEASE_ROOT.split('/', 3)[3]}/{h.ENV}/{SCHEDULE}.json"


pubsub_server, pubsub = served_fake(
    "pubsub", fake_pubsub, setup=lambda fake: fake.create_topic(TOPIC)
)


@pytest.fixture(scope="module")
def url(gcs, vertex_server, pubsub_server, tmp_path_factory) -> Iterator[str]:
    """A function process that publishes failure alerts."""
    log = tmp_path_factory.mktemp("lost") / "function.log"
    env = h.function_env(
        vertex_server[1],
        STORAGE_EMULATOR_HOST=gcs,
        ALERTS_TOPIC=TOPIC,
        PUBSUB_EMULATOR_HOST=pubsub_server[1],
    )
    with h.serve_function(env, log) as served:
        yield served


def fire(url: str, when: str = FIRE) -> requests.Response:
    body = {
        "pipeline": h.PIPELINE,
        "schedule": SCHEDULE,
        "max_concurrent_runs": 1,
        "parameters": {"raw_data_path": "raw/latest.csv"},
    }
    headers = h.scheduler_headers(f"{h.ENV}-{SCHEDULE}", when)
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


def lease_holders() -> list[str]:
    return [entry["job"] for entry in json.loads(h.read_object(LEASE))["holders"]]


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE])
def test_a_create_that_landed_is_answered_created_keeps_its_slot_and_alerts_nothing(
    code, url, vertex, pubsub, no_leases
):
    vertex.inject_fault("CreatePipelineJob", code, lands=True)

    resp = fire(url)

    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert (answer["outcome"], answer["job"], answer["job_id"]) == ("created", JOB, JOB_ID)
    assert code.name in answer["message"] and "the create landed" in answer["message"]
    assert [job.name for job in vertex.created()] == [JOB]
    assert lease_holders() == [JOB]  # the slot stays with the run that exists
    assert pubsub.messages(TOPIC) == []
    # the next fire while that run is pending is skipped, as for any running job
    assert fire(url, "2026-12-07T02:00:00Z").json()["outcome"] == "skipped"
    # and Cloud Scheduler's redelivery of the same fire starts nothing new
    assert fire(url).json()["outcome"] == "already_exists"
    assert len(vertex.created()) == 1


def test_a_create_that_did_not_land_answers_503_frees_the_slot_and_alerts(
    url, vertex, pubsub, no_leases
):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.DEADLINE_EXCEEDED)

    resp = fire(url)

    assert resp.status_code == 503, resp.text
    assert vertex.created() == []
    assert lease_holders() == []
    [alert] = pubsub.messages(TOPIC)
    assert json.loads(alert.data)["kind"] == "fire_without_run"


def test_when_the_lookup_fails_too_the_slot_is_kept_for_the_retry(url, vertex, pubsub, no_leases):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.UNAVAILABLE, lands=True)
    vertex.inject_fault("GetPipelineJob", grpc.StatusCode.UNAVAILABLE)

    resp = fire(url)

    assert resp.status_code == 503, resp.text  # cannot tell: Cloud Scheduler retries
    assert lease_holders() == [JOB]  # not given back to a second run while this one may exist
    retried = fire(url)
    assert retried.json()["outcome"] == "already_exists", retried.text
    assert len(vertex.created()) == 1
