"""The conditional-object primitive (contract/conditional.py) against the GCS emulator's
preconditions: absent objects, stale generations, races, lost answers and transient faults."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import storage
from google.cloud.storage.blob import Blob

from contract.conditional import (
    ABSENT,
    DEFAULT_RETRY,
    ChangingError,
    ConditionalObject,
    RetryPolicy,
    is_transient,
)
from fakes import gcs as fake_gcs
from tests.served import served_emulator

BUCKET = "conditional-tests"
NAME = "locks/object.json"


class Pauses:
    """A policy's sleep and clock: records each pause and moves the clock by it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


emulator, client = served_emulator(
    "client", (BUCKET,), server="emulator", project="conditional-tests"
)


@pytest.fixture
def pauses() -> Pauses:
    return Pauses()


@pytest.fixture
def obj(client, pauses) -> ConditionalObject:
    policy = RetryPolicy(sleep=pauses.sleep, clock=pauses.clock)
    return ConditionalObject(client, BUCKET, NAME, policy)


def stored(client) -> bytes:
    return client.bucket(BUCKET).blob(NAME).download_as_bytes()


def test_an_absent_object_reads_as_generation_zero(obj):
    assert obj.read() == ABSENT
    assert obj.read().exists is False and obj.read().data is None
    assert obj.uri == f"gs://{BUCKET}/{NAME}"


def test_write_if_absent_creates_once_and_the_read_has_its_generation_and_time(obj, client):
    before = datetime.now(UTC) - timedelta(seconds=5)
    generation = obj.write(b'{"v": 1}', 0)

    assert isinstance(generation, int) and generation > 0
    assert obj.write(b'{"v": 2}', 0) is None  # only if absent: lost
    snapshot = obj.read()
    assert (snapshot.data, snapshot.generation) == (b'{"v": 1}', generation)
    assert isinstance(snapshot.generation, int) and snapshot.exists
    assert before <= snapshot.created <= datetime.now(UTC) + timedelta(seconds=5)
    blob = client.bucket(BUCKET).get_blob(NAME)
    assert blob.content_type == "application/json" and int(blob.generation) == generation


def test_a_stale_generation_writes_and_deletes_nothing(obj, client):
    first = obj.write(b"v1", 0)
    second = obj.write(b"v2", first)

    assert second is not None and second != first
    assert obj.write(b"v3", first) is None
    assert obj.delete(first) is False
    assert stored(client) == b"v2"
    assert obj.write(b"v3", 12345) is None  # a generation that never was


def test_delete_if_generation_and_a_second_delete(obj):
    generation = obj.write(b"v1", 0)
    assert obj.delete(generation) is True
    assert obj.read() == ABSENT
    assert obj.delete(generation) is False  # nothing there any more


def test_each_new_write_gets_a_new_creation_time(obj):
    first = obj.write(b"v1", 0)
    created = obj.read().created
    obj.write(b"v2", first)
    assert obj.read().created >= created


@pytest.mark.parametrize("contenders", [2, 8])
def test_of_writers_racing_on_one_generation_exactly_one_wins(client, contenders):
    seed = ConditionalObject(client, BUCKET, NAME).write(b"seed", 0)
    start = threading.Barrier(contenders)
    results: dict[int, int | None] = {}

    def contend(index: int) -> None:
        own = ConditionalObject(storage.Client(project="conditional-tests"), BUCKET, NAME)
        seen = own.read().generation
        start.wait()
        results[index] = own.write(f"writer {index}".encode(), seen)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [i for i, generation in results.items() if generation is not None]
    assert len(winners) == 1, results
    assert stored(client) == f"writer {winners[0]}".encode()
    assert results[winners[0]] != seed


def test_creating_races_too(client):
    start = threading.Barrier(4)
    won: list[int] = []

    def create(index: int) -> None:
        own = ConditionalObject(storage.Client(project="conditional-tests"), BUCKET, NAME)
        start.wait()
        if own.write(f"creator {index}".encode(), 0) is not None:
            won.append(index)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and stored(client) == f"creator {won[0]}".encode()


def test_transient_faults_are_retried_with_growing_pauses(obj, emulator, pauses, client):
    fake_gcs.inject_fault(emulator, "objects.insert", 503, times=2)

    generation = obj.write(b"v1", 0)

    assert generation is not None and stored(client) == b"v1"
    assert len(pauses.slept) == 2
    assert 0.25 <= pauses.slept[0] <= 0.5 and 0.5 <= pauses.slept[1] <= 1.0
    fake_gcs.inject_fault(emulator, "objects.get", 429, times=1)
    assert obj.read().generation == generation  # its 429 retried too
    assert len(pauses.slept) == 3


def test_a_write_whose_answer_was_lost_is_recognised_as_ours(obj, emulator, client):
    fake_gcs.inject_fault(emulator, "objects.insert", 503, lands=True)

    generation = obj.write(b'{"holder": "me"}', 0)

    # the retry met 412 (the first attempt had created the object); the read-back shows it is ours
    assert generation == int(client.bucket(BUCKET).get_blob(NAME).generation)
    assert stored(client) == b'{"holder": "me"}'


def test_a_lost_race_after_a_transient_fault_is_still_lost(client, emulator):
    other = ConditionalObject(client, BUCKET, NAME)
    seen = other.write(b"v1", 0)

    def someone_else_writes(_seconds: float) -> None:
        # while this writer waits to retry its failed (not landed) attempt
        other.write(b"someone else", seen)

    policy = RetryPolicy(sleep=someone_else_writes)
    fake_gcs.inject_fault(emulator, "objects.insert", 503)

    assert ConditionalObject(client, BUCKET, NAME, policy).write(b"mine", seen) is None
    assert stored(client) == b"someone else"


def test_a_delete_whose_answer_was_lost_counts_as_done(obj, emulator):
    generation = obj.write(b"v1", 0)
    fake_gcs.inject_fault(emulator, "objects.delete", 503, lands=True)
    assert obj.delete(generation) is True
    assert obj.read() == ABSENT


def test_errors_that_are_not_transient_are_raised_at_once(obj, emulator, pauses):
    fake_gcs.inject_fault(emulator, "objects.insert", 403, reason="forbidden")
    with pytest.raises(gexc.Forbidden):
        obj.write(b"v1", 0)
    assert pauses.slept == []


def test_retries_stop_at_the_deadline_with_the_last_error(client, emulator, pauses):
    fake_gcs.inject_fault(emulator, "objects.get", 503, times=100)
    policy = RetryPolicy(deadline=10.0, sleep=pauses.sleep, clock=pauses.clock)

    with pytest.raises(gexc.ServiceUnavailable):
        ConditionalObject(client, BUCKET, NAME, policy).read()

    assert sum(pauses.slept) < 10.0
    # pauses of at least 0.25, 0.5, 1, 2, 4: six attempts at most fit in 10 s
    assert 4 <= len(pauses.slept) <= 5


def test_a_read_while_the_object_is_replaced_returns_one_consistent_generation(
    obj, client, monkeypatch
):
    obj.write(b"v1", 0)
    other = ConditionalObject(storage.Client(project="conditional-tests"), BUCKET, NAME)
    original = Blob.download_as_bytes
    replaced = []

    def replace_first(self, *args, **kwargs):
        # Another writer replaces the object between the metadata and the bytes, once.
        if not replaced:
            live = int(client.bucket(BUCKET).get_blob(NAME).generation)
            replaced.append(other.write(b"v2", live))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Blob, "download_as_bytes", replace_first)
    snapshot = obj.read()
    assert (snapshot.data, snapshot.generation) == (b"v2", replaced[0])


def test_an_object_that_never_holds_still_is_an_error(obj, client, monkeypatch):
    obj.write(b"v0", 0)
    other = ConditionalObject(storage.Client(project="conditional-tests"), BUCKET, NAME)
    original = Blob.download_as_bytes

    def always_replace(self, *args, **kwargs):
        other.write(b"again", int(client.bucket(BUCKET).get_blob(NAME).generation))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Blob, "download_as_bytes", always_replace)
    with pytest.raises(ChangingError, match="changed 5 times"):
        obj.read()


@pytest.mark.parametrize("bad", [-1, "0", 1.0, True, None])
def test_generations_are_integers(obj, bad):
    with pytest.raises(ValueError, match="generation"):
        obj.write(b"x", bad)
    with pytest.raises(ValueError, match="generation"):
        obj.delete(0 if bad is None else bad)


def test_what_counts_as_transient():
    transient = [
        gexc.ServiceUnavailable("x"),
        gexc.InternalServerError("x"),
        gexc.TooManyRequests("x"),
        gexc.GatewayTimeout("x"),
        requests.exceptions.ConnectionError("reset"),
        requests.exceptions.ReadTimeout("slow"),
        ConnectionResetError(),
    ]
    permanent = [
        gexc.PreconditionFailed("x"),
        gexc.NotFound("x"),
        gexc.Forbidden("x"),
        gexc.BadRequest("x"),
        ValueError("x"),
    ]
    assert all(is_transient(err) for err in transient)
    assert not any(is_transient(err) for err in permanent)
    request_timeout = gexc.from_http_status(408, "timeout")
    assert is_transient(request_timeout)


def test_the_policy_outside_storage(pauses):
    policy = DEFAULT_RETRY.with_deadline(5.0, timeout=2.0)
    assert (policy.deadline, policy.timeout) == (5.0, 2.0)
    assert DEFAULT_RETRY.deadline == 30.0  # policies are values
    policy = RetryPolicy(deadline=5.0, sleep=pauses.sleep, clock=pauses.clock)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise gexc.ServiceUnavailable("later")
        return "done"

    retried: list[BaseException] = []
    assert policy.call(flaky, on_retry=retried.append) == "done"
    assert len(calls) == 3 and len(retried) == 2 and len(pauses.slept) == 2
