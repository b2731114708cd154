"""A per-environment apply lock with expiry (like Terraform's state lock), kept on Cloud Storage.

Two applies from two commits must never interleave their writes: the older commit's apply could
undo the newer one's changes job by job. `apply` therefore holds one lock per environment while
it lists, plans and writes.

The lock is one small JSON object, `<template_base>/_locks/schedule-apply-<env>.json` (the
environment's own bucket, which the deploy identity already writes when it publishes; `_locks`
can never be a version tag, so no published version collides with it). It is created with the
generation precondition `ifGenerationMatch=0` ("only if no object exists"), which Cloud Storage
checks atomically, so of two applies exactly one gets it (through `contract.conditional`, the
project's one read-with-generation / write-if-generation primitive). It records who holds it
and for how long; a lock older than its time to live (an apply that crashed) is taken over by
replacing that exact generation, again atomically. A long apply extends its lock as it goes,
and it is released by deleting the generation it wrote, so a lock taken over after expiry is
never deleted by the apply that lost it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contract.conditional import (
    DEFAULT_RETRY,
    ChangingError,
    ConditionalObject,
    RetryPolicy,
    Snapshot,
)

#: How long a lock holds without being extended; an apply extends it at half this age.
DEFAULT_TTL = timedelta(minutes=10)
LOCK_FOLDER = "_locks"


class LockError(Exception):
    """The lock could not be taken or was lost; the message says who holds it and until when."""


@dataclass(frozen=True)
class LockInfo:
    """What the lock object says: who holds it, from which commit, and until when."""

    holder: str
    commit: str
    acquired: datetime
    expires: datetime
    generation: int = 0

    def describe(self) -> str:
        """Who holds the lock and until when, for people."""
        commit = f", commit {self.commit}" if self.commit else ""
        return (
            f"held by {self.holder}{commit} since {self.acquired:%Y-%m-%dT%H:%M:%SZ}, "
            f"expires {self.expires:%Y-%m-%dT%H:%M:%SZ} (lock generation {self.generation})"
        )


def lock_location(template_base: str, environment: str) -> tuple[str, str]:
    """(bucket, object name) of an environment's apply lock under its template base."""
    bucket, _, prefix = template_base.removeprefix("gs://").partition("/")
    name = f"{LOCK_FOLDER}/schedule-apply-{environment}.json"
    return bucket, f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name


def encode(info: LockInfo) -> bytes:
    """The lock object's content."""
    return json.dumps(
        {
            "holder": info.holder,
            "commit": info.commit,
            "acquired": info.acquired.astimezone(UTC).isoformat(),
            "expires": info.expires.astimezone(UTC).isoformat(),
        },
        sort_keys=True,
    ).encode()


def decode(data: bytes, generation: int, written: datetime | None) -> LockInfo:
    """A lock object's content; unreadable content counts as held for DEFAULT_TTL after it was
    written (never as free: a lock nobody can read must not be ignored)."""
    try:
        raw = json.loads(data)
        return LockInfo(
            holder=str(raw["holder"]),
            commit=str(raw.get("commit", "")),
            acquired=datetime.fromisoformat(raw["acquired"]),
            expires=datetime.fromisoformat(raw["expires"]),
            generation=generation,
        )
    except (ValueError, KeyError, TypeError):
        since = written or datetime.now(UTC)
        return LockInfo("(unreadable lock object)", "", since, since + DEFAULT_TTL, generation)


def whoami() -> str:
    """Who is applying, as shown to a second apply that finds the lock held."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def current_commit() -> str:
    """The commit being applied, as CI systems announce it ('' when unknown)."""
    for name in ("COMMIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA"):
        if os.environ.get(name):
            return os.environ[name]
    return ""


class ApplyLock:
    """The apply lock of one environment: `acquire()`, `extend_if_due()` and `release()`."""

    def __init__(
        self,
        storage_client: Any,
        template_base: str,
        environment: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._object = ConditionalObject(
            storage_client, *lock_location(template_base, environment), retry
        )
        self.uri = self._object.uri
        self.environment = environment
        self.ttl = ttl
        self.clock = clock
        self.sleep = sleep
        self.held: LockInfo | None = None
        #: set when acquire() replaced an expired lock
        self.took_over: LockInfo | None = None

    def acquire(self, holder: str, commit: str = "", wait: float = 0.0) -> LockInfo:
        """Take the lock, waiting up to `wait` seconds for a holder to finish; LockError else."""
        deadline = time.monotonic() + wait
        while True:
            current = self._write(holder, commit, generation=0)
            if current is None:
                return self._held()
            if current.expires <= self.clock():
                if self._write(holder, commit, generation=current.generation) is None:
                    self.took_over = current
                    return self._held()
                continue  # someone else replaced it first: look again
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(
                    f"environment '{self.environment}' is locked by another apply: "
                    f"{current.describe()}. Wait for it (--lock-timeout SECONDS), or, if that "
                    f"apply is dead, run `schedule.py unlock --env {self.environment} "
                    f"--generation {current.generation}` ({self.uri})"
                )
            self.sleep(min(2.0, remaining))

    def extend_if_due(self) -> None:
        """Push the expiry out when half the time to live has passed; LockError if it was lost."""
        if self.held is None:
            raise LockError("the apply lock is not held")
        if self.clock() < self.held.expires - self.ttl / 2:
            return
        if self._write(self.held.holder, self.held.commit, self.held.generation) is not None:
            self.held = None
            raise LockError(
                f"lost the apply lock of environment '{self.environment}' ({self.uri}): another "
                "apply took it over after it expired; stopping before the next write"
            )

    def release(self) -> bool:
        """Delete the lock if it is still ours; False when it was taken over meanwhile."""
        if self.held is None:
            return False
        generation, self.held = self.held.generation, None
        return self._object.delete(generation)

    def _held(self) -> LockInfo:
        assert self.held is not None
        return self.held

    def _write(self, holder: str, commit: str, generation: int) -> LockInfo | None:
        """Write our lock if the object is at `generation` (0: absent). None on success, else
        what is there now (generation 0, expired, when it vanished meanwhile: `acquire` then
        writes only if it is really absent)."""
        now = self.clock()
        info = LockInfo(holder, commit, now, now + self.ttl)
        written = self._object.write(encode(info), generation)
        if written is not None:
            self.held = replace(info, generation=written)
            return None
        snapshot = _read(self._object)
        if not snapshot.exists:
            return LockInfo("(changed)", "", now, now, 0)
        return decode(snapshot.data or b"", snapshot.generation, snapshot.created)


def _read(lock: ConditionalObject) -> Snapshot:
    try:
        return lock.read()
    except ChangingError as err:
        raise LockError(f"{err}: another apply is busy with the lock; try again") from None


def force_unlock(storage_client: Any, template_base: str, environment: str, generation: int) -> str:
    """Delete a lock left by a dead apply, only if it is still that generation; what was
    removed. LockError when there is no such lock."""
    lock = ConditionalObject(storage_client, *lock_location(template_base, environment))
    snapshot = _read(lock)
    if not snapshot.exists:
        raise LockError(f"environment '{environment}' is not locked ({lock.uri})")
    info = decode(snapshot.data or b"", snapshot.generation, snapshot.created)
    if info.generation != generation:
        raise LockError(
            f"the lock of environment '{environment}' is generation {info.generation}, not "
            f"{generation}: {info.describe()}. Nothing removed"
        )
    if not lock.delete(generation):
        raise LockError(f"the lock changed while removing it; nothing removed ({lock.uri})")
    return info.describe()
