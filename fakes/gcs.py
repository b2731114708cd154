"""A GCS emulator (gcp-storage-emulator from PyPI) started in-process, made to keep Cloud Storage's
request preconditions, with faults to inject.

The emulator as published accepts `ifGenerationMatch` and friends and ignores them: it
overwrites an object whatever generation the caller names. Code that relies on them (the apply
lock, the trigger's lease, the registry's alias pointers: `contract/conditional.py`) would pass
its tests and race in production. `enforce_preconditions()` therefore wraps the emulator's object
handlers with the service's rules ("Request preconditions",
https://cloud.google.com/storage/docs/request-preconditions, and the `ifGeneration*` parameters
of the JSON API's objects methods, https://cloud.google.com/storage/docs/json_api/v1/objects):

- `ifGenerationMatch=N` holds when the live object has generation N; `0` means "only if no live
  object has this name";
- `ifGenerationNotMatch=N` holds when a live object exists and its generation is not N;
- `ifMetagenerationMatch` / `ifMetagenerationNotMatch`: the same against a live object's
  metageneration (no live object: they fail);
- copy and rewrite check `ifSource*` against the source object too; the XML API's
  `x-goog-if-generation-match` / `x-goog-if-metageneration-match` headers count as the query
  parameters;
- a failing condition is answered `412 Precondition Failed` (reason `conditionNotMet`) and
  nothing is written; a failing `*NotMatch` on a read is `304 Not Modified` (RFC 7232 3.2, as the
  service answers a conditional GET); a value that is not a number is `400 invalid`;
- a resumable upload is checked when its session starts and again with every chunk (its session
  URL carries the parameters), so a session cannot overwrite an object that changed meanwhile.

The check and the handler run under one lock, one step as in the service, whatever the order in
which the emulator's modules and this one are imported: the patch rebinds the emulator's route
table (read on every request) and its handler functions, once per process.

Faults: `inject_fault(host, "objects.insert", 503, lands=True)` makes the next call of that
JSON API method on the emulator at `host` answer 503 — with `lands`, after doing the work (the
write took effect, its answer was lost). Methods: objects.insert (every upload), objects.get
(metadata and media), objects.delete, objects.patch, objects.copy, objects.rewrite,
objects.compose.
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

from fakes.base import LOCALHOST, Fault, FaultQueue, serve_until_interrupted

#: (query parameter, object field, must equal) of the destination object's conditions
CONDITIONS = (
    ("ifGenerationMatch", "generation", True),
    ("ifGenerationNotMatch", "generation", False),
    ("ifMetagenerationMatch", "metageneration", True),
    ("ifMetagenerationNotMatch", "metageneration", False),
)
SOURCE_CONDITIONS = tuple(
    (param.replace("if", "ifSource", 1), field, equal) for param, field, equal in CONDITIONS
)
#: the XML API's header for a JSON API query parameter (only the *Match conditions exist there)
XML_HEADERS = {
    "ifGenerationMatch": "x-goog-if-generation-match",
    "ifMetagenerationMatch": "x-goog-if-metageneration-match",
}
_MESSAGE = "At least one of the pre-conditions you specified did not hold."
_LOCK = threading.RLock()
_FAULTS: dict[int, FaultQueue] = {}


class RefusedError(Exception):
    """A request the service refuses before doing anything: its HTTP status and message."""

    def __init__(self, status: HTTPStatus, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


def check(
    conditions: dict[str, str], current: dict | None, table: tuple = CONDITIONS, *, read=False
) -> None:
    """Raise RefusedError unless every condition in `conditions` holds for `current` (the object's
    resource, None when there is no live object); `read`: the request only reads."""
    for param, field, must_equal in table:
        if param not in conditions:
            continue
        try:
            wanted = int(conditions[param])
        except ValueError:
            raise RefusedError(
                HTTPStatus.BAD_REQUEST,
                f"Invalid value for {param}: {conditions[param]!r}",
                "invalid",
            ) from None
        if field == "generation" and must_equal and current is None:
            holds = wanted == 0
        else:
            holds = current is not None and (int(current[field]) == wanted) == must_equal
        if holds:
            continue
        actual = "no live object" if current is None else f"{field} {current[field]}"
        message = f"{_MESSAGE} ({param}={wanted}, {actual})"
        if read and not must_equal:
            raise RefusedError(HTTPStatus.NOT_MODIFIED, message, "notModified")
        raise RefusedError(HTTPStatus.PRECONDITION_FAILED, message, "conditionNotMet")


def _conditions(request: Any, table: tuple = CONDITIONS) -> dict[str, str]:
    found = {param: request.query[param][0] for param, _, _ in table if param in request.query}
    for param, header in XML_HEADERS.items():
        value = request.get_header(header)
        if table is CONDITIONS and value is not None:
            found.setdefault(param, value)
    return found


def _live(storage: Any, bucket: str | None, name: str | None) -> dict | None:
    if not bucket or not name:
        return None
    try:
        return storage.get_file_obj(bucket, name)
    except NotFound:
        return None


def _upload_target(request: Any, storage: Any) -> tuple[str | None, str | None]:
    """(bucket, object) an upload writes, wherever its request names them."""
    if "upload_id" in request.query:  # a later chunk of a resumable session
        try:
            session = storage.get_resumable_file_obj(request.query["upload_id"][0])
        except NotFound:
            return None, None
        return session.get("bucket"), session.get("name")
    params = request.params or {}
    bucket = params.get("bucket_name")
    if params.get("object_id"):  # XML API PUT /bucket/object
        return bucket, params["object_id"]
    if "name" in request.query:
        return bucket, request.query["name"][0]
    upload_type = (request.query.get("uploadType") or [""])[0]
    data = request.data if upload_type in ("multipart", "resumable") else None
    if isinstance(data, dict):
        meta = data.get("meta") if upload_type == "multipart" else data
        return bucket, (meta or {}).get("name")
    return bucket, None


def _check_upload(request: Any, storage: Any) -> None:
    conditions = _conditions(request)
    if conditions:
        check(conditions, _live(storage, *_upload_target(request, storage)))


def _check_object(request: Any, storage: Any, read: bool) -> None:
    # Reads, deletes and patches of a missing object are the handler's 404, as in the service.
    params = request.params or {}
    current = _live(storage, params.get("bucket_name"), params.get("object_id"))
    conditions = _conditions(request)
    if current is not None and conditions:
        check(conditions, current, read=read)


def _check_copy(request: Any, storage: Any) -> None:
    params = request.params or {}
    source = _live(storage, params.get("bucket_name"), params.get("object_id"))
    if source is not None:
        check(_conditions(request, SOURCE_CONDITIONS), source, SOURCE_CONDITIONS)
    check(
        _conditions(request),
        _live(storage, params.get("dest_bucket_name"), params.get("dest_object_id")),
    )


def _check_compose(request: Any, storage: Any) -> None:
    params = request.params or {}
    check(_conditions(request), _live(storage, params.get("bucket_name"), params.get("object_id")))


#: emulator handler -> (JSON API method, the check it needs)
_GUARDED: dict[str, tuple[str, Callable[[Any, Any], None]]] = {
    "insert": ("objects.insert", _check_upload),
    "upload_partial": ("objects.insert", _check_upload),
    "xml_upload": ("objects.insert", _check_upload),
    "get": ("objects.get", functools.partial(_check_object, read=True)),
    "download": ("objects.get", functools.partial(_check_object, read=True)),
    "delete": ("objects.delete", functools.partial(_check_object, read=False)),
    "patch": ("objects.patch", functools.partial(_check_object, read=False)),
    "copy": ("objects.copy", _check_copy),
    "rewrite": ("objects.rewrite", _check_copy),
    "compose": ("objects.compose", _check_compose),
}


def _error(response: Any, status: HTTPStatus, message: str, reason: str) -> None:
    response.status = status
    if status == HTTPStatus.NOT_MODIFIED:
        return  # a 304 carries no body
    error = {"domain": "global", "reason": reason, "message": message}
    if reason == "conditionNotMet":
        error.update(locationType="header", location="If-Match")
    response.json({"error": {"code": status.value, "message": message, "errors": [error]}})


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def _fault_for(request: Any, method: str) -> Fault | None:
    # base_url is the Host the client called, so it names the emulator (one queue per port).
    queue = _FAULTS.get(_port(request.base_url))
    return queue.take(method) if queue is not None else None


def _guarded(handler: Callable, method: str, precheck: Callable[[Any, Any], None]) -> Callable:
    @functools.wraps(handler)
    def guarded(request, response, storage, *args, **kwargs):
        fault = _fault_for(request, method)
        if fault is not None and not fault.lands:
            return _error(
                response, HTTPStatus(fault.code), fault.message, fault.reason or "backendError"
            )
        with _LOCK:
            try:
                precheck(request, storage)
            except RefusedError as refused:
                return _error(response, refused.status, refused.message, refused.reason)
            handler(request, response, storage, *args, **kwargs)
        if fault is not None:  # it landed; only the answer is lost
            _error(response, HTTPStatus(fault.code), fault.message, fault.reason or "backendError")
        return None

    guarded.checks_preconditions = True  # type: ignore[attr-defined]
    return guarded


def enforce_preconditions() -> None:
    """Make every emulator in this process keep preconditions (idempotent; any import order)."""
    with _LOCK:
        if getattr(objects, "preconditions_enforced", False):
            return
        wrapped = {}
        for name, (method, precheck) in _GUARDED.items():
            original = getattr(objects, name)
            wrapped[original] = _guarded(original, method, precheck)
            # The router falls back to `objects.insert` for uploads posted without /upload.
            setattr(objects, name, wrapped[original])
        # The router reads the module-level table on every request, so rebinding it reaches
        # emulators that are already running.
        emulator_server.HANDLERS = tuple(
            (pattern, {verb: wrapped.get(fn, fn) for verb, fn in handlers.items()})
            for pattern, handlers in emulator_server.HANDLERS
        )
        objects.preconditions_enforced = True


def inject_fault(
    host: str,
    method: str,
    status: int = 503,
    *,
    times: int = 1,
    lands: bool = False,
    message: str = "injected fault",
    reason: str = "backendError",
) -> None:
    """Make the next `times` calls of `method` (module docstring) on the emulator at `host`
    answer `status`; with `lands`, after doing the work."""
    queue = _FAULTS.get(_port(host))
    if queue is None:
        raise ValueError(f"no emulator started by gcs_emulator() listens at {host}")
    queue.add(method, Fault(status, message, times, lands, reason=reason))


def clear_faults(host: str) -> None:
    """Forget the faults not taken yet on the emulator at `host`."""
    queue = _FAULTS.get(_port(host))
    if queue is not None:
        queue.clear()


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_emulator(port: int = 0, host: str = LOCALHOST) -> Iterator[str]:
    """An in-memory emulator on `port` (0: a free one), preconditions kept; yields its URL."""
    enforce_preconditions()
    port = port or free_port(host)
    server = create_server(host, port, in_memory=True)
    server.start()
    _FAULTS[port] = FaultQueue()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        _FAULTS.pop(port, None)


@contextlib.contextmanager
def gcs_emulator(
    buckets: tuple[str, ...] = (), port: int = 0, host: str = LOCALHOST
) -> Iterator[str]:
    """Run an emulator holding `buckets`; yields its `STORAGE_EMULATOR_HOST` value.

    The environment variable is set for the duration, so `google.cloud.storage.Client()` created
    inside the block talks to the emulator with anonymous credentials.
    """
    with running_emulator(port, host) as url:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            if buckets:
                from google.cloud import storage

                client = storage.Client(project="test-project")
                for name in buckets:
                    client.create_bucket(name)
            yield url
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


@contextlib.contextmanager
def _served(port: int, host: str, buckets: tuple[str, ...]) -> Iterator[tuple[None, str]]:
    with gcs_emulator(buckets, port, host) as url:
        yield None, url


def main(argv: list[str] | None = None) -> None:
    """Serve the emulator, preconditions kept, until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="GCS emulator that keeps request preconditions")
    parser.add_argument("--port", type=int, default=9023)
    parser.add_argument("--host", default=LOCALHOST)
    parser.add_argument("--bucket", action="append", default=[], help="create this bucket")
    args = parser.parse_args(argv)
    serve_until_interrupted(
        _served(args.port, args.host, tuple(args.bucket)),
        "GCS emulator on {address} (preconditions kept); export STORAGE_EMULATOR_HOST={address}",
    )


if __name__ == "__main__":
    main()
