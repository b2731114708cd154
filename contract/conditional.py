"""Read-with-generation and write-if-generation on one Cloud Storage object: the primitive every
race here depends on (the schedule apply lock, the trigger's per-schedule lease, the model
registry's alias pointers and immutable version files).

Cloud Storage gives every write of an object a new generation (an integer) and carries out a
write or delete only if its `ifGenerationMatch` still names the live one (0: "only if no live
object has this name"), a check the service makes atomically ("Request preconditions",
https://cloud.google.com/storage/docs/request-preconditions). A read-modify-write is then:

    obj = ConditionalObject(client, bucket, name)
    current = obj.read()                     # Snapshot: data, generation (0: absent), created
    if obj.write(changed(current.data), current.generation) is None:
        ...                                  # somebody wrote first: read again, decide again

Transient failures (HTTP 408, 429, 5xx, timeouts, dropped connections: "Retry strategy",
https://cloud.google.com/storage/docs/retry-strategy) are retried by one `RetryPolicy`, with the
library's own retry switched off so that nothing is retried twice over. A conditional write is
safe to retry, with one catch: when an attempt landed and only its answer was lost, the retry is
refused, because the generation moved on — to ours. `write` tells that case apart by reading the
object back: when it holds exactly the bytes this call wrote, the write was ours. Callers write
content that names its writer (the lock's holder and time, the lease's job and time, an alias
move's id), so equal bytes mean the same write.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions

T = TypeVar("T")

#: Reads of an object that keeps changing between its metadata and its bytes, before giving up.
READ_ATTEMPTS = 5
_RETRIED_STATUS = frozenset({408, 429})
_DROPPED = (
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    auth_exceptions.TransportError,
)


def is_transient(err: BaseException) -> bool:
    """Whether a later attempt may well succeed: 408, 429 and 5xx answers, timeouts and dropped
    connections ("Retry strategy", Response section)."""
    if isinstance(err, gexc.GoogleAPICallError):
        code = err.code if isinstance(err.code, int) else 0
        return code in _RETRIED_STATUS or 500 <= code <= 599
    return isinstance(err, _DROPPED)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for errors `predicate` accepts, within `deadline` seconds.

    Deadline arithmetic: an attempt is started only while the time spent so far plus the pause
    before it stays under `deadline`, and each request is bounded by `timeout` (the HTTP
    library's connect and read timeouts). So one operation ends within `deadline + timeout`
    seconds: its last attempt starts before the deadline and runs one request at most. The
    pauses grow from `initial` by `multiplier` up to `maximum`, each drawn from its upper half
    (jitter keeps concurrent writers from retrying in step); with the defaults (0.5 s doubling
    to 8 s, 30 s deadline) an operation whose attempts all fail at once makes 7 to 11 of them
    (pauses of at least 0.25 + 0.5 + 1 + 2 + 4 + 4 + ... s). The last error is raised as it
    came, so callers map it as they map any other error of the library.
    """

    predicate: Callable[[BaseException], bool] = is_transient
    initial: float = 0.5
    maximum: float = 8.0
    multiplier: float = 2.0
    deadline: float = 30.0
    timeout: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def with_deadline(self, deadline: float, timeout: float | None = None) -> RetryPolicy:
        """The same policy within another deadline (and request timeout)."""
        return replace(
            self, deadline=deadline, timeout=self.timeout if timeout is None else timeout
        )

    def call(
        self, fn: Callable[[], T], on_retry: Callable[[BaseException], None] | None = None
    ) -> T:
        """`fn()`, retried as the class docstring says; `on_retry(err)` before each retry."""
        started = self.clock()
        pause = self.initial
        while True:
            try:
                return fn()
            except Exception as err:
                wait = random.uniform(pause / 2, pause)
                if not self.predicate(err) or self.clock() - started + wait >= self.deadline:
                    raise
                if on_retry is not None:
                    on_retry(err)
                self.sleep(wait)
                pause = min(pause * self.multiplier, self.maximum)


#: What every caller uses unless it has a stated reason to differ (the trigger: its RPC timeout).
DEFAULT_RETRY = RetryPolicy()


class ChangingError(Exception):
    """The object changed between its metadata and its bytes READ_ATTEMPTS times in a row."""


@dataclass(frozen=True)
class Snapshot:
    """An object as read: its bytes, its generation and when that generation was created
    (the server's `timeCreated`; nobody can set it). No live object: None, 0, None."""

    data: bytes | None
    generation: int = 0
    created: datetime | None = None

    @property
    def exists(self) -> bool:
        """Whether a live object was there."""
        return self.generation != 0


ABSENT = Snapshot(None, 0, None)


def _generation(value: Any, allow_absent: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_absent else 1):
        expected = "a generation >= 0 (0: only if absent)" if allow_absent else "a generation > 0"
        raise ValueError(f"expected {expected}, got {value!r}")
    return value


class ConditionalObject:
    """One object, `gs://bucket/name`: `read`, `write` if at a generation, `delete` if at one."""

    def __init__(
        self, client: Any, bucket: str, name: str, retry: RetryPolicy = DEFAULT_RETRY
    ) -> None:
        self._bucket = client.bucket(bucket)
        self.name = name
        self.uri = f"gs://{bucket}/{name}"
        self.retry = retry

    def read(self) -> Snapshot:
        """The object now, bytes and generation from the same write; ABSENT when there is none.

        Two requests (metadata, then the bytes pinned to that generation with
        `ifGenerationMatch`); if the object is replaced in between, it is read again.
        """
        return self.retry.call(self._read_once)

    def _read_once(self) -> Snapshot:
        for _ in range(READ_ATTEMPTS):
            blob = self._bucket.get_blob(self.name, retry=None, timeout=self.retry.timeout)
            if blob is None:
                return ABSENT
            # Taken before the download, which refreshes the blob's properties from its answer.
            generation, created = int(blob.generation), blob.time_created
            try:
                data = blob.download_as_bytes(
                    if_generation_match=generation, retry=None, timeout=self.retry.timeout
                )
            except gexc.PreconditionFailed:
                continue  # replaced since the metadata was read
            except gexc.NotFound:
                return ABSENT  # deleted since
            return Snapshot(data, generation, created)
        raise ChangingError(f"{self.uri} changed {READ_ATTEMPTS} times while being read")

    def write(
        self, data: bytes, if_generation: int, content_type: str = "application/json"
    ) -> int | None:
        """Write `data` if the object is still at `if_generation` (0: only if absent): the
        generation written, or None when it was not (another writer won)."""
        expected = _generation(if_generation)
        retried: list[BaseException] = []

        def attempt() -> int | None:
            blob = self._bucket.blob(self.name)
            try:
                blob.upload_from_string(
                    data,
                    content_type=content_type,
                    if_generation_match=expected,
                    retry=None,
                    timeout=self.retry.timeout,
                )
            except gexc.PreconditionFailed:
                return None
            return int(blob.generation)

        written = self.retry.call(attempt, on_retry=retried.append)
        if written is None and retried:
            # An earlier attempt may have landed with its answer lost (module docstring).
            current = self.read()
            if current.data == data:
                return current.generation
        return written

    def delete(self, if_generation: int) -> bool:
        """Delete the object if it is still at `if_generation`: True when this call removed it
        (after a lost answer, an object already gone counts as removed), False when it is at
        another generation or was never there."""
        expected = _generation(if_generation, allow_absent=False)
        retried: list[BaseException] = []

        def attempt() -> bool:
            try:
                self._bucket.delete_blob(
                    self.name,
                    if_generation_match=expected,
                    retry=None,
                    timeout=self.retry.timeout,
                )
            except gexc.PreconditionFailed:
                return False
            except gexc.NotFound:
                return bool(retried)
            return True

        return self.retry.call(attempt, on_retry=retried.append)
