"""A fake Pub/Sub Publisher (google.pubsub.v1.Publisher) over gRPC, in process.

The real `google.pubsub_v1.PublisherClient` (GAPIC) talks to it over plain-text gRPC with the
library's own types. Rules kept from the service (Publish reference and resource limits):
the topic must be `projects/P/topics/T` (INVALID_ARGUMENT) and exist (NOT_FOUND); a request
needs at least one message, at most 1,000 messages and 10 MB; every message needs data or at
least one attribute; at most 100 attributes, keys at most 256 bytes and not starting with
`goog`, values at most 1,024 bytes (INVALID_ARGUMENT). Faults can be injected.

    with fake_pubsub() as (fake, host):
        fake.create_topic("projects/p/topics/alerts")
        fake.inject_fault("Publish", grpc.StatusCode.UNAVAILABLE)
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import ClassVar

import grpc
from google.pubsub_v1 import types

from fakes.base import GrpcFake, Method, RpcError, serve

SERVICE = "google.pubsub.v1.Publisher"
_TOPIC = re.compile(r"^projects/[^/]+/topics/(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
MAX_MESSAGES = 1000
MAX_REQUEST = 10 * 1000 * 1000
MAX_ATTRIBUTES = 100


@dataclass
class FakePublisher(GrpcFake):
    """Topics and the messages published to each."""

    SERVICE: ClassVar[str] = SERVICE

    topics: dict[str, list[types.PubsubMessage]] = field(default_factory=dict)
    _ids: int = 0

    def create_topic(self, name: str) -> None:
        """A topic that exists (what bootstrap would create)."""
        with self.lock:
            self.topics.setdefault(name, [])

    def reset(self) -> None:
        """Forget topics and their messages, calls and faults."""
        with self.lock:
            super().reset()
            self.topics.clear()

    def messages(self, topic: str) -> list[types.PubsubMessage]:
        """What was published to `topic`, in order."""
        with self.lock:
            return list(self.topics.get(topic, []))

    def fault_target(self, request: types.PublishRequest) -> str:
        return request.topic

    def publish(self, request: types.PublishRequest) -> types.PublishResponse:
        problem = _request_problem(request)
        if problem:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, problem)
        with self.lock:
            if request.topic not in self.topics:
                raise RpcError(
                    grpc.StatusCode.NOT_FOUND,
                    f"Resource not found (resource={request.topic.rsplit('/', 1)[-1]}).",
                )
            ids = []
            for message in request.messages:
                self._ids += 1
                stored = types.PubsubMessage(message)
                stored.message_id = str(self._ids)
                self.topics[request.topic].append(stored)
                ids.append(stored.message_id)
        return types.PublishResponse(message_ids=ids)

    def methods(self) -> dict[str, Method]:
        return {"Publish": Method.of(self.publish, types.PublishRequest, types.PublishResponse)}


def _request_problem(request: types.PublishRequest) -> str | None:
    if not _TOPIC.match(request.topic):
        return f"Invalid [topics] name: ({request.topic})"
    if not request.messages:
        return "The request must contain at least one message."
    if len(request.messages) > MAX_MESSAGES:
        return f"The value for message_count is too large. You passed {len(request.messages)}"
    if len(types.PublishRequest.serialize(request)) > MAX_REQUEST:
        return "Request payload size exceeds the limit: 10000000 bytes."
    for message in request.messages:
        problem = _message_problem(message)
        if problem:
            return problem
    return None


def _message_problem(message: types.PubsubMessage) -> str | None:
    """Why Pub/Sub refuses one message of a publish request (None when it accepts it)."""
    if not message.data and not message.attributes:
        return "Some messages are empty: a message needs data or at least one attribute."
    if len(message.attributes) > MAX_ATTRIBUTES:
        return f"Too many attributes: {len(message.attributes)} (at most {MAX_ATTRIBUTES})."
    for key, value in message.attributes.items():
        if not key or len(key.encode()) > 256 or key.startswith("goog"):
            return f"Invalid attribute key '{key[:40]}'."
        if len(value.encode()) > 1024:
            return f"Attribute value of '{key}' is longer than 1024 bytes."
    return None


def fake_pubsub(port: int = 0) -> AbstractContextManager[tuple[FakePublisher, str]]:
    """Serve a fresh fake on localhost; yields (fake, "host:port")."""
    return serve(FakePublisher(), port)
