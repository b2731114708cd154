"""Failure alerts with the real Pub/Sub client against fakes/pubsub.py: the exit-handler step
(components/notify.py) and the trigger's alert for a scheduled fire that produced no run."""

# No `from __future__ import annotations`: KFP reads the pipeline's annotations as types.
import json
from collections.abc import Iterator

import grpc
import pytest
import requests
from google.api_core import exceptions as gexc
from kfp import compiler, dsl

from components.notify import notify_failure, publish_failure
from fakes.gcs import gcs_emulator
from fakes.pubsub import fake_pubsub
from fakes.vertex import fake_vertex
from tests.served import served_fake
from tests.trigger import trigger_harness as h

TOPIC = f"projects/{h.PROJECT}/topics/churn-alerts"
JOB = f"{h.PARENT}/pipelineJobs/test-nightly-scoring-20260329t013000z"
DAG_ERROR = (
    "The DAG failed because some tasks failed. The failed tasks are: [train]. "
    "Dataproc batch test-train-1 failed: Job failed with message [Py4JJavaError ...]"
)


pubsub_server, pubsub = served_fake(
    "pubsub", fake_pubsub, env="PUBSUB_EMULATOR_HOST", setup=lambda fake: fake.create_topic(TOPIC)
)


def decoded(message) -> dict:
    return json.loads(message.data)


def test_a_failed_run_publishes_schedule_fire_time_step_error_and_link(pubsub):
    status = dsl.PipelineTaskFinalStatus(
        state="FAILED", pipeline_job_resource_name=JOB, pipeline_task_name="exit-handler-1",
        error_code=9, error_message=DAG_ERROR,
    )  # fmt: skip
    message_id = notify_failure.python_func(
        status=status, alerts_topic=TOPIC, environment="test", fire_time="2026-03-29T01:30:00Z"
    )
    [message] = pubsub.messages(TOPIC)
    assert message.message_id == message_id
    assert decoded(message) == {
        "kind": "run_failed",
        "environment": "test",
        "schedule": "nightly-scoring",
        "fire_time": "2026-03-29T01:30:00Z",
        "state": "FAILED",
        "failing_step": "train",
        "error": DAG_ERROR,
        "job_id": "test-nightly-scoring-20260329t013000z",
        "link": "https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/"
        f"runs/test-nightly-scoring-20260329t013000z?project={h.PROJECT}",
    }
    assert dict(message.attributes) == {
        "kind": "run_failed", "environment": "test", "schedule": "nightly-scoring",
        "severity": "ERROR",
    }  # fmt: skip


def failure(**overrides) -> dict:
    args = dict(state="FAILED", job_resource_name=JOB, task_name="exit-handler-1",
                error_message=DAG_ERROR, error_code=9, topic=TOPIC, environment="test",
                fire_time="", sleep=lambda _s: None)  # fmt: skip
    return {**args, **overrides}


def test_success_or_no_topic_publishes_nothing(pubsub):
    assert publish_failure(**failure(state="SUCCEEDED")) == "no alert: succeeded"
    assert publish_failure(**failure(topic="")) == "no alert: no topic"
    assert pubsub.calls["Publish"] == 0


def test_transient_errors_are_retried_and_a_missing_topic_fails_the_step(pubsub):
    pubsub.inject_fault("Publish", grpc.StatusCode.UNAVAILABLE, times=2)
    publish_failure(**failure(state="CANCELLED", error_message=""))
    [message] = pubsub.messages(TOPIC)
    assert decoded(message)["error"] == "the run ended CANCELLED (code 9)"
    assert pubsub.calls["Publish"] == 3
    with pytest.raises(gexc.NotFound):
        publish_failure(**failure(topic=f"projects/{h.PROJECT}/topics/gone"))


def test_the_exit_handler_compiles_with_the_final_status(tmp_path):
    @dsl.component(base_image="python:3.11")
    def fail() -> None:
        raise RuntimeError("boom")

    @dsl.pipeline(name="exit-handler-check")
    def pipe(alerts_topic: str = "", environment: str = "test", fire_time: str = ""):
        notify = notify_failure(
            alerts_topic=alerts_topic, environment=environment, fire_time=fire_time
        )
        with dsl.ExitHandler(notify):
            fail()

    out = tmp_path / "pipe.yaml"
    compiler.Compiler().compile(pipe, str(out))
    text = out.read_text()
    assert "PipelineTaskFinalStatus" in text and "exit-handler-1" in text


# --- the trigger ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trigger_with_alerts(pubsub_server, tmp_path_factory) -> Iterator[dict]:
    _, pubsub_host = pubsub_server
    with gcs_emulator(buckets=(h.BUCKET,)) as gcs_host, fake_vertex() as (vertex, vertex_host):
        h.publish_templates(("v1",), latest="v1")
        log = tmp_path_factory.mktemp("alerts") / "function.log"
        env = h.function_env(vertex_host, STORAGE_EMULATOR_HOST=gcs_host, ALERTS_TOPIC=TOPIC,
                             PUBSUB_EMULATOR_HOST=pubsub_host, LEASE_GRACE_SECONDS="0")  # fmt: skip
        with h.serve_function(env, log) as url:
            yield {"url": url, "vertex": vertex, "log": log}


def fire(url: str, when: str, caller: str = h.INVOKER, **fields) -> requests.Response:
    body = {"pipeline": "churn-scoring", "schedule": "nightly-scoring", "max_concurrent_runs": 1,
            "parameters": {"customers_path": "c.csv"}, **fields}  # fmt: skip
    headers = h.scheduler_headers("test-nightly-scoring", when, caller=caller)
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


def test_the_trigger_alerts_when_a_scheduled_fire_produces_no_run(pubsub, trigger_with_alerts):
    url, vertex = trigger_with_alerts["url"], trigger_with_alerts["vertex"]
    vertex.reset()

    refused = fire(url, "2026-03-29T01:30:00Z", parameters={"customers_path": "../x"})
    created = fire(url, "2026-03-30T00:30:00Z")
    skipped = fire(url, "2026-03-31T00:30:00Z")  # the run of the 30th is still running

    assert (refused.status_code, created.json()["outcome"], skipped.json()["outcome"]) == (
        400, "created", "skipped",
    )  # fmt: skip
    first, second = (decoded(m) for m in pubsub.messages(TOPIC))
    assert first["kind"] == "fire_without_run" and first["schedule"] == "nightly-scoring"
    assert first["fire_time"] == "2026-03-29T01:30:00Z"
    assert first["failing_step"] == "trigger" and first["error"].startswith("HTTP 400 rejected:")
    assert "customers_path" in first["error"]
    assert second["fire_time"] == "2026-03-31T00:30:00Z" and second["state"] == "skipped"
    assert "max_concurrent_runs=1" in second["error"]


def test_no_alert_for_calls_that_are_not_fires_and_none_changes_an_answer(
    pubsub, trigger_with_alerts
):
    url, vertex = trigger_with_alerts["url"], trigger_with_alerts["vertex"]
    vertex.reset()
    # Someone else sending Cloud Scheduler's headers: refused (403), not a fire of ours.
    assert fire(url, "2026-04-01T00:30:00Z", caller=h.RUNNER).status_code == 403
    assert pubsub.messages(TOPIC) == []
    pubsub.inject_fault("Publish", grpc.StatusCode.UNAVAILABLE, times=1)
    answer = fire(url, "2026-04-02T00:30:00Z", parameters={"customers_path": "../x"})
    assert answer.status_code == 400  # Pub/Sub down: the answer is what it would have been
    entries = [e for e in h.log_lines(trigger_with_alerts["log"]) if e.get("alert_error")]
    assert entries and "ServiceUnavailable" in entries[-1]["alert_error"]


def test_a_backfills_skipped_slot_is_not_alerted(pubsub, trigger_with_alerts):
    url, vertex = trigger_with_alerts["url"], trigger_with_alerts["vertex"]
    vertex.reset()
    assert fire(url, "2026-04-03T00:30:00Z").json()["outcome"] == "created"
    body = {"pipeline": "churn-scoring", "schedule": "nightly-scoring", "max_concurrent_runs": 1,
            "parameters": {"customers_path": "c.csv"}}  # fmt: skip
    headers = {**h.scheduler_headers("test-nightly-scoring", "2026-04-04T00:30:00Z"),
               "X-Churn-Backfill": "true"}  # fmt: skip
    answer = requests.post(url, data=json.dumps(body), headers=headers, timeout=30)
    assert answer.json()["outcome"] == "skipped"
    assert pubsub.messages(TOPIC) == []  # backfill waits and offers the slot again itself
