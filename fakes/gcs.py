"""A GCS emulator (gcp-storage-emulator from PyPI) started in-process on a free local port.

The emulator ignores request preconditions (`ifGenerationMatch` and friends): it overwrites an
object whatever generation the caller names. Code that relies on them (the trigger's lease,
alias pointers) would pass its tests and race in production, so `gcs_emulator` first wraps the
emulator's upload and delete handlers with the real API's rules: a precondition that does not
hold is answered `412 Precondition Failed` (reason `conditionNotMet`) and nothing is written;
`ifGenerationMatch=0` means "only if the object does not exist". The check and the write happen
under one lock, as one step of the real service. For resumable uploads the check is made when
the upload starts (the emulator keeps no preconditions with a session).
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from gcp_storage_emulator import server as emulator_server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects
from gcp_storage_emulator.server import create_server

_PRECONDITIONS = (
    ("ifGenerationMatch", "generation", True),
    ("ifGenerationNotMatch", "generation", False),
    ("ifMetagenerationMatch", "metageneration", True),
    ("ifMetagenerationNotMatch", "metageneration", False),
)
_WRITE_LOCK = threading.Lock()


def _object_name(request: Any) -> str | None:
    """The object an upload or delete request is about, wherever that request names it."""
    params = request.params or {}
    if params.get("object_id"):
        return params["object_id"]
    if "name" in request.query:
        return request.query["name"][0]
    upload_type = (request.query.get("uploadType") or [""])[0]
    data = request.data if upload_type in ("multipart", "resumable") else None
    if upload_type == "multipart" and isinstance(data, dict):
        return (data.get("meta") or {}).get("name")
    if upload_type == "resumable" and isinstance(data, dict):
        return data.get("name")
    return None


def precondition_failure(request: Any, storage: Any) -> str | None:
    """Which precondition of `request` does not hold against the stored object, or None."""
    wanted = [(q, field, eq) for q, field, eq in _PRECONDITIONS if q in request.query]
    if not wanted:
        return None
    bucket = (request.params or {}).get("bucket_name")
    name = _object_name(request)
    try:
        current = storage.get_file_obj(bucket, name) if name else None
    except NotFound:
        current = None
    for query, field, equal in wanted:
        expected = int(request.query[query][0])
        actual = int(current[field]) if current else 0
        if (actual == expected) != equal:
            return f"{query}={expected} but the object's {field} is {actual}"
    return None


def _with_preconditions(handler: Callable) -> Callable:
    if getattr(handler, "_checks_preconditions", False):
        return handler

    @functools.wraps(handler)
    def checked(request, response, storage, *args, **kwargs):
        if "upload_id" in request.query:  # a resumable session's later chunks
            return handler(request, response, storage, *args, **kwargs)
        with _WRITE_LOCK:
            failure = precondition_failure(request, storage)
            if failure is None:
                return handler(request, response, storage, *args, **kwargs)
        message = "At least one of the pre-conditions you specified did not hold."
        response.status = HTTPStatus.PRECONDITION_FAILED
        response.json(
            {
                "error": {
                    "code": 412,
                    "message": message,
                    "errors": [
                        {"domain": "global", "reason": "conditionNotMet", "message": failure}
                    ],
                }
            }
        )

    checked._checks_preconditions = True  # type: ignore[attr-defined]
    return checked


def enforce_preconditions() -> None:
    """Make the emulator's write handlers honour preconditions (idempotent, process-wide)."""
    wrapped = {}
    for name in ("insert", "xml_upload", "delete", "patch"):
        original = getattr(objects, name)
        wrapped[original] = _with_preconditions(original)
        setattr(objects, name, wrapped[original])
    for _, methods in emulator_server.HANDLERS:
        for method, handler in list(methods.items()):
            if handler in wrapped:
                methods[method] = wrapped[handler]


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
    enforce_preconditions()
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


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator, preconditions enforced, until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="GCS emulator that honours preconditions")
    parser.add_argument("--port", type=int, default=9023)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket")
    args = parser.parse_args(argv)
    enforce_preconditions()
    server = create_server(args.host, args.port, in_memory=True)
    server.start()
    try:
        if args.bucket:
            os.environ["STORAGE_EMULATOR_HOST"] = f"http://{args.host}:{args.port}"
            from google.cloud import storage

            client = storage.Client(project="local")
            for name in args.bucket:
                client.create_bucket(name)
        print(f"GCS emulator on http://{args.host}:{args.port} (preconditions enforced)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
