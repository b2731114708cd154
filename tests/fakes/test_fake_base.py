"""What every fake shares (fakes/base.py): one fault queue, one way to serve, one reset."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.pubsub_v1 import PublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

from fakes.base import Fault, FaultQueue, GrpcFake, HttpFake
from fakes.bigquery import serve_bigquery
from fakes.cloudbuild import running_cloudbuild
from fakes.dataset_service import fake_dataset_service
from fakes.github import running_github
from fakes.http_target import recording_target
from fakes.iam_credentials import fake_iam_credentials
from fakes.kfp_registry import kfp_registry
from fakes.model_service import fake_model_service
from fakes.pubsub import fake_pubsub
from fakes.scheduler import running_scheduler
from fakes.vertex import fake_vertex

EVERY_FAKE = {
    "scheduler": running_scheduler,
    "vertex": fake_vertex,
    "dataset_service": fake_dataset_service,
    "model_service": fake_model_service,
    "iam_credentials": fake_iam_credentials,
    "pubsub": fake_pubsub,
    "bigquery": serve_bigquery,
    "kfp_registry": kfp_registry,
    "github": running_github,
    "cloudbuild": running_cloudbuild,
    "http_target": recording_target,
}
TOPIC = "projects/p/topics/alerts"


def test_faults_are_taken_oldest_first_for_their_method_or_any():
    queue = FaultQueue()
    queue.add("Create", Fault("first", remaining=2))
    queue.add("*", Fault("any"))
    queue.add("Create", Fault("later"))

    assert [queue.take("Create").code for _ in range(2)] == ["first", "first"]
    assert queue.take("Get").code == "any"
    assert queue.take("Create").code == "later"
    assert queue.take("Create") is None and len(queue) == 0


def test_a_fault_for_one_target_spares_the_others():
    queue = FaultQueue()
    queue.add("Pause", Fault("x", target="daily"))
    assert queue.take("Pause", "projects/p/locations/l/jobs/weekly") is None
    assert queue.take("Pause", "projects/p/locations/l/jobs/daily").code == "x"
    with pytest.raises(ValueError, match="times >= 1"):
        queue.add("Pause", Fault("x", remaining=0))


@pytest.mark.parametrize("name", sorted(EVERY_FAKE))
def test_every_fake_serves_on_a_free_port_and_stops(name):
    with EVERY_FAKE[name]() as (fake, address):
        assert isinstance(fake, GrpcFake | HttpFake)
        host, port = address.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5):
            pass
        fake.inject_fault("*", 503 if isinstance(fake, HttpFake) else grpc.StatusCode.UNAVAILABLE)
        fake.calls["x"] += 1
        fake.reset()
        assert len(fake.faults) == 0 and fake.calls == {}
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=1)


def _publisher(address: str) -> PublisherClient:
    return PublisherClient(transport=PublisherGrpcTransport(channel=grpc.insecure_channel(address)))


def test_a_grpc_fault_that_lands_does_the_work_and_loses_the_answer():
    with fake_pubsub() as (fake, address):
        fake.create_topic(TOPIC)
        fake.inject_fault("Publish", grpc.StatusCode.UNAVAILABLE, lands=True)
        with pytest.raises(gexc.ServiceUnavailable):
            _publisher(address).publish(topic=TOPIC, messages=[{"data": b"x"}], retry=None)
        assert [m.data for m in fake.messages(TOPIC)] == [b"x"]
        assert fake.calls["Publish"] == 1 and fake.requests[0][0] == "Publish"


def test_a_rest_fault_that_lands_does_the_work_and_loses_the_answer():
    with running_github() as (fake, api):
        fake.inject_fault("POST", 502, lands=True)
        request = urllib.request.Request(
            f"{api}/repos/acme/churn/issues/7/comments",
            data=json.dumps({"body": "plan"}).encode(),
            headers={"Authorization": "Bearer test-token"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 502
        assert json.loads(err.value.read()) == {"message": "injected fault"}
        assert [c["body"] for c in fake.comments[("acme/churn", 7)]] == ["plan"]


def test_latency_per_method_or_for_every_method():
    with fake_pubsub() as (fake, address):
        fake.create_topic(TOPIC)
        fake.latency["Publish"] = 0.3
        started = time.monotonic()
        _publisher(address).publish(topic=TOPIC, messages=[{"data": b"x"}], retry=None)
        assert time.monotonic() - started >= 0.3
        assert fake.busy_seconds >= 0.3
        fake.latency.clear()
        fake.latency["*"] = 0.2
        started = time.monotonic()
        _publisher(address).publish(topic=TOPIC, messages=[{"data": b"y"}], retry=None)
        assert time.monotonic() - started >= 0.2
