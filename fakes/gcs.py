"""A GCS emulator (gcp-storage-emulator from PyPI) started in-process on a free local port."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

from gcp_storage_emulator.server import create_server


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gcs_emulator(buckets: tuple[str, ...] = ()) -> Iterator[str]:
    """Run an in-memory GCS emulator; yields its `STORAGE_EMULATOR_HOST` value (http://host:port).

    The environment variable is set for the duration, so `google.cloud.storage.Client()` created
    inside the block talks to the emulator with anonymous credentials.
    """
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    host = f"http://127.0.0.1:{port}"
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = host
    try:
        if buckets:
            from google.cloud import storage

            client = storage.Client(project="test-project")
            for name in buckets:
                client.create_bucket(name)
        yield host
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous
