"""An HTTP endpoint that records what it is sent: the target a fake Cloud Scheduler job delivers
to when a test needs to see the delivery itself rather than the trigger's answer to it.

    with recording_target() as (target, url):
        target.inject_fault("POST", 503)   # the first delivery is refused, as a busy target would
        ...
        target.received[0].headers["X-CloudScheduler-JobName"]   # what was accepted
        [request for _verb, request in target.requests]           # everything that arrived
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import ClassVar

from fakes.base import HttpFake, JsonHandler, serve


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    verb: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(JsonHandler):
    fake: RecordingTarget

    def route(self, verb: str) -> None:
        received = Received(verb, self.path, dict(self.headers), self.read_body())
        self.answer(verb, lambda: self.fake.receive(received), received)


@dataclass
class RecordingTarget(HttpFake):
    """The requests it accepted (`received`), beside every request that arrived (`requests`,
    refused ones included)."""

    HANDLER: ClassVar[type[JsonHandler]] = _Handler

    received: list[Received] = field(default_factory=list)

    def receive(self, received: Received) -> tuple[int, bytes]:
        with self.lock:
            self.received.append(received)
        return 200, b"ok"

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.received.clear()


def recording_target() -> AbstractContextManager[tuple[RecordingTarget, str]]:
    """Serve a fresh target on a free localhost port; yields (target, its base URL)."""
    return serve(RecordingTarget())
