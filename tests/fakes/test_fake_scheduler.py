"""The fake Cloud Scheduler v1, driven by the real client library over gRPC."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud.scheduler_v1 import types
from google.protobuf import field_mask_pb2

from fakes.http_target import RecordingTarget, recording_target
from scheduling.api import make_client

PARENT = "projects/p-1/locations/europe-west4"


def job(job_id: str, uri: str = "https://example.test/run", **extra) -> types.Job:
    fields = {
        "name": f"{PARENT}/jobs/{job_id}",
        "schedule": "0 3 * * 1",
        "time_zone": "Europe/Amsterdam",
        "http_target": types.HttpTarget(
            uri=uri,
            http_method=types.HttpMethod.POST,
            headers={"Content-Type": "application/json"},
            body=b'{"pipeline":"p"}',
            oidc_token=types.OidcToken(
                service_account_email="invoker@p-1.iam.gserviceaccount.com", audience=uri
            ),
        ),
    }
    fields.update(extra)
    return types.Job(**fields)


@pytest.fixture
def client(fake):
    return make_client()


def test_create_sets_server_fields_and_refuses_a_second_create(client, fake):
    created = client.create_job(parent=PARENT, job=job("a"))
    assert created.state == types.Job.State.ENABLED
    assert created.user_update_time.timestamp() > 0
    assert created.schedule_time.timestamp() > datetime.now(UTC).timestamp()
    assert created.attempt_deadline.total_seconds() == 180  # the API's default
    assert created.retry_config.max_backoff_duration.total_seconds() == 3600
    assert created.http_target.headers["User-Agent"] == "Google-Cloud-Scheduler"
    with pytest.raises(gexc.AlreadyExists):
        client.create_job(parent=PARENT, job=job("a"))
    assert fake.calls["CreateJob"] == 2


def test_names_and_fields_are_validated(client, fake):
    with pytest.raises(gexc.InvalidArgument, match="Invalid job name"):
        client.create_job(parent=PARENT, job=job("bad id!"))
    with pytest.raises(gexc.InvalidArgument, match="Invalid parent"):
        client.create_job(parent="projects/p/jobs", job=job("a"))
    with pytest.raises(gexc.InvalidArgument, match="does not belong to the parent"):
        client.create_job(parent="projects/other/locations/x", job=job("a"))
    with pytest.raises(gexc.InvalidArgument, match="Schedule or time zone is invalid"):
        client.create_job(parent=PARENT, job=job("a", time_zone="Mars/Base"))
    with pytest.raises(gexc.InvalidArgument, match="attempt_deadline"):
        client.create_job(parent=PARENT, job=job("a", attempt_deadline={"seconds": 3600}))
    assert fake.jobs == {}


@pytest.mark.parametrize("schedule", ["0 3 31 2 *", "0 0 31 4,6,9,11 *", "0 3 * *", "61 * * * *"])
def test_a_schedule_that_never_fires_or_is_malformed_is_refused(client, fake, schedule):
    with pytest.raises(gexc.InvalidArgument, match="Schedule or time zone is invalid"):
        client.create_job(parent=PARENT, job=job("a", schedule=schedule))
    client.create_job(parent=PARENT, job=job("a"))
    with pytest.raises(gexc.InvalidArgument, match="Schedule or time zone is invalid"):
        client.update_job(
            job=types.Job(name=f"{PARENT}/jobs/a", schedule=schedule),
            update_mask=field_mask_pb2.FieldMask(paths=["schedule"]),
        )
    assert client.get_job(name=f"{PARENT}/jobs/a").schedule == "0 3 * * 1"
    # rare is not never: February 29 comes round
    client.update_job(
        job=types.Job(name=f"{PARENT}/jobs/a", schedule="0 3 29 2 *"),
        update_mask=field_mask_pb2.FieldMask(paths=["schedule"]),
    )


def test_get_delete_pause_resume_of_a_missing_job_are_not_found(client):
    name = f"{PARENT}/jobs/missing"
    for call in (client.get_job, client.delete_job, client.pause_job, client.resume_job):
        with pytest.raises(gexc.NotFound):
            call(name=name, retry=None)


def test_pause_and_resume(client):
    client.create_job(parent=PARENT, job=job("a"))
    paused = client.pause_job(name=f"{PARENT}/jobs/a")
    assert paused.state == types.Job.State.PAUSED
    assert client.get_job(name=f"{PARENT}/jobs/a").state == types.Job.State.PAUSED
    assert client.resume_job(name=f"{PARENT}/jobs/a").state == types.Job.State.ENABLED


def test_list_pages_with_tokens_and_only_the_parent(client, fake):
    for i in range(7):
        client.create_job(parent=PARENT, job=job(f"j{i}"))
    client.create_job(
        parent="projects/p-1/locations/us-central1",
        job=types.Job(
            name="projects/p-1/locations/us-central1/jobs/elsewhere",
            schedule="* * * * *",
            http_target=types.HttpTarget(uri="https://x.test"),
        ),
    )
    fake.reset_calls()
    first = client.list_jobs(request={"parent": PARENT, "page_size": 3})
    pages = list(first.pages)
    assert [len(p.jobs) for p in pages] == [3, 3, 1]
    assert fake.calls["ListJobs"] == 3
    names = [j.name.rsplit("/", 1)[-1] for p in pages for j in p.jobs]
    assert names == [f"j{i}" for i in range(7)]
    with pytest.raises(gexc.InvalidArgument, match="page token"):
        client.list_jobs(request={"parent": PARENT, "page_token": "garbage"}, retry=None)


def test_update_honours_the_mask(client):
    client.create_job(parent=PARENT, job=job("a", description="before"))
    change = job("a", description="after", time_zone="UTC")
    change.schedule = "0 4 * * 1"
    updated = client.update_job(
        job=change, update_mask=field_mask_pb2.FieldMask(paths=["description"])
    )
    assert updated.description == "after"
    assert updated.schedule == "0 3 * * 1"  # not in the mask: untouched
    assert updated.time_zone == "Europe/Amsterdam"
    replaced = client.update_job(
        job=types.Job(name=f"{PARENT}/jobs/a", http_target=types.HttpTarget(uri="https://b.test")),
        update_mask=field_mask_pb2.FieldMask(paths=["http_target"]),
    )
    # a message path replaces the whole message
    assert replaced.http_target.uri == "https://b.test"
    assert replaced.http_target.body == b""
    assert not replaced.http_target.oidc_token.service_account_email


def test_update_mask_errors_and_the_empty_mask(client):
    client.create_job(parent=PARENT, job=job("a", description="before"))
    for paths in (["nope"], ["state"], ["http_target.nope"]):
        with pytest.raises(gexc.InvalidArgument, match="update_mask"):
            client.update_job(
                job=types.Job(name=f"{PARENT}/jobs/a"),
                update_mask=field_mask_pb2.FieldMask(paths=paths),
            )
    with pytest.raises(gexc.NotFound):
        client.update_job(job=types.Job(name=f"{PARENT}/jobs/zz", description="x"))
    # no mask: every field the request sets is replaced, the others kept (AIP-134)
    updated = client.update_job(job=types.Job(name=f"{PARENT}/jobs/a", description="after"))
    assert updated.description == "after"
    assert updated.schedule == "0 3 * * 1"


def test_faults_fail_the_next_calls_then_clear(client, fake):
    client.create_job(parent=PARENT, job=job("a"))
    client.create_job(parent=PARENT, job=job("b"))
    fake.inject_fault("PauseJob", grpc.StatusCode.UNAVAILABLE, times=2, target="b")
    client.pause_job(name=f"{PARENT}/jobs/a", retry=None)  # other jobs unaffected
    for _ in range(2):
        with pytest.raises(gexc.ServiceUnavailable):
            client.pause_job(name=f"{PARENT}/jobs/b", retry=None)
    assert client.pause_job(name=f"{PARENT}/jobs/b", retry=None).state == types.Job.State.PAUSED
    fake.inject_fault("ListJobs", grpc.StatusCode.DEADLINE_EXCEEDED)
    with pytest.raises(gexc.DeadlineExceeded):
        client.list_jobs(request={"parent": PARENT}, retry=None)
    assert fake.calls["PauseJob"] == 4


@pytest.fixture
def http_target() -> Iterator[tuple[RecordingTarget, str]]:
    with recording_target() as (target, url):
        yield target, f"{url}/trigger"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_run_and_fire_deliver_like_cloud_scheduler(client, fake, http_target):
    target, url = http_target
    target.inject_fault("POST", 503)  # the first delivery is refused
    client.create_job(parent=PARENT, job=job("a", uri=url))
    client.run_job(name=f"{PARENT}/jobs/a")
    when = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    fake.fire("a", schedule_time=when)
    assert [d.status for d in fake.deliveries] == [503, 200]
    [accepted] = target.received
    path, headers, body = accepted.path, accepted.headers, accepted.body
    assert path == "/trigger"
    assert body == b'{"pipeline":"p"}'
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Google-Cloud-Scheduler"
    assert headers["X-CloudScheduler"] == "true"
    assert headers["X-CloudScheduler-JobName"] == "a"
    assert headers["X-CloudScheduler-ScheduleTime"] == "2026-03-02T02:00:00Z"
    # every delivery, RunJob's included, carries the invoker's identity in the OIDC token's
    # `email` claim (what the trigger checks the caller against)
    assert len(target.requests) == 2
    for _verb, sent in target.requests:
        scheme, token = sent.headers["Authorization"].split(" ")
        assert scheme == "Bearer"
        assert claims(token)["aud"] == url
        assert claims(token)["email"] == "invoker@p-1.iam.gserviceaccount.com"
        assert claims(token)["email_verified"] is True
    # the same fire can be delivered again (a retry)
    again = fake.fire("a", schedule_time=when)
    assert again.headers["X-CloudScheduler-ScheduleTime"] == "2026-03-02T02:00:00Z"
    assert fake.calls["RunJob"] == 1
    assert client.get_job(name=f"{PARENT}/jobs/a").last_attempt_time.timestamp() > 0
