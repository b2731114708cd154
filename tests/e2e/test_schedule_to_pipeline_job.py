"""End to end, no mocks in between: schedule YAML -> `schedule.py apply` into the fake Cloud
Scheduler -> RunJob / a fire makes the fake call the trigger function over HTTP as Cloud
Scheduler does -> the function -> one CreatePipelineJob on the fake Vertex AI, whose spec is the
template `compile.py --publish` put in the GCS emulator and whose parameters are the YAML's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
import yaml
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler.transports import (
    CloudSchedulerGrpcTransport,
)

from fakes.gcs import gcs_emulator
from fakes.scheduler import running_scheduler
from fakes.vertex import fake_vertex
from tests.served import served_fake
from tests.trigger import trigger_harness as h

SCHEDULE = "churn-training-weekly"
ENV = h.ENV
SCHEDULER_PARENT = h.PARENT
JOB = f"{SCHEDULER_PARENT}/jobs/{ENV}-{SCHEDULE}"


@pytest.fixture(scope="module")
def published() -> Iterator[str]:
    """GCS emulator with v1 and v2 published by compile.py --publish (latest -> v2)."""
    with gcs_emulator(buckets=(h.BUCKET,)) as host:
        h.publish_templates(("v1", "v2"), latest="v2")
        yield host


vertex_server, vertex = served_fake("vertex", fake_vertex)


@pytest.fixture(scope="module")
def function_url(published, vertex_server, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("e2e") / "function.log"
    # Grace 0: slots held by jobs of an earlier test (the fake Vertex is emptied) are freed.
    env = h.function_env(vertex_server[1], STORAGE_EMULATOR_HOST=published, LEASE_GRACE_SECONDS="0")
    with h.serve_function(env, log) as url:
        yield url


@pytest.fixture(scope="module")
def scheduler():
    with running_scheduler() as served:
        yield served


@pytest.fixture(scope="module")
def applied(tmp_path_factory, function_url, scheduler, published) -> dict:
    """The shipped weekly-retrain schedule applied to the fake scheduler; returns its YAML."""
    _, address = scheduler
    tree = tmp_path_factory.mktemp("schedules")
    shutil.copy(h.REPO / "schedules" / f"{SCHEDULE}.yaml", tree / f"{SCHEDULE}.yaml")
    (tree / "environments").mkdir()
    (tree / "environments" / f"{ENV}.yaml").write_text(
        yaml.safe_dump({**h.ENVIRONMENT, "trigger_url": function_url})
    )
    done = subprocess.run(
        [sys.executable, "schedule.py", "apply", "--schedules", str(tree), "--env", ENV,
         "--auto-approve", "--templates", "build/vertex"],
        cwd=h.REPO,
        env={**os.environ, "SCHEDULER_EMULATOR_HOST": address, "STORAGE_EMULATOR_HOST": published},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return yaml.safe_load((tree / f"{SCHEDULE}.yaml").read_text())


def published_spec(version: str) -> dict:
    text = h.read_object(f"pipelines/{version}/templates/churn-training.yaml")
    return next(d for d in yaml.safe_load_all(text) if d)


def test_run_job_creates_one_pipeline_job_from_the_published_template(
    applied, scheduler, vertex, published
):
    fake_scheduler, address = scheduler
    client = scheduler_v1.CloudSchedulerClient(
        transport=CloudSchedulerGrpcTransport(channel=grpc.insecure_channel(address))
    )

    client.run_job(name=JOB)

    delivery = fake_scheduler.deliveries[-1]
    assert delivery.status == 200, delivery.response
    assert delivery.headers["Authorization"].startswith("Bearer ")
    assert vertex.calls["CreatePipelineJob"] == 1
    [job] = vertex.created()
    assert dict(job.pipeline_spec) == published_spec("v2")
    fired = delivery.schedule_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert dict(job.runtime_config.parameter_values) == {
        **applied["parameters"],
        "fire_time": fired,
    }
    assert job.labels["schedule"] == SCHEDULE
    assert job.labels["template-version"] == "v2"
    fire_time = delivery.schedule_time.strftime("%Y%m%dt%H%M%Sz")
    assert job.name.endswith(f"/pipelineJobs/{ENV}-{SCHEDULE}-{fire_time}")


def test_a_redelivered_fire_still_makes_one_job(applied, scheduler, vertex, published):
    fake_scheduler, _ = scheduler
    when = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    first = fake_scheduler.fire(JOB, schedule_time=when)
    again = fake_scheduler.fire(JOB, schedule_time=when)

    assert (first.status, again.status) == (200, 200)
    assert b'"already_exists"' in again.response
    assert vertex.calls["CreatePipelineJob"] == 1
    [job] = vertex.created()
    assert job.name.endswith(f"/pipelineJobs/{ENV}-{SCHEDULE}-20261130t020000z")
