"""Generation preconditions for the gcp-storage-emulator (it accepts but ignores them).

Cloud Storage answers 412 `conditionNotMet` when a request's `ifGenerationMatch`,
`ifGenerationNotMatch`, `ifMetagenerationMatch` or `ifMetagenerationNotMatch` does not hold for the
object it writes, reads or deletes (`ifGenerationMatch=0`: "only if no live object has this name").
The emulator, as published on PyPI, ignores those parameters, so a compare-and-swap written
against it would pass every test and still race in production. `enforce_preconditions()` wraps
the emulator's object handlers with the real check. The emulator serves one request at a time
(`http.server.HTTPServer`), so check-then-write here is as atomic as it is in the service.

Reference: https://cloud.google.com/storage/docs/request-preconditions
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from gcp_storage_emulator import server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

_CONDITIONS = (
    ("ifGenerationMatch", "generation", True),
    ("ifGenerationNotMatch", "generation", False),
    ("ifMetagenerationMatch", "metageneration", True),
    ("ifMetagenerationNotMatch", "metageneration", False),
)
_SOURCE_CONDITIONS = (
    ("ifSourceGenerationMatch", "generation", True),
    ("ifSourceGenerationNotMatch", "generation", False),
    ("ifSourceMetagenerationMatch", "metageneration", True),
    ("ifSourceMetagenerationNotMatch", "metageneration", False),
)
_MESSAGE = "At least one of the pre-conditions you specified did not hold."

Handler = Callable[..., Any]


def _current(storage: Any, bucket: str, name: str) -> dict[str, str] | None:
    try:
        return storage.get_file_obj(bucket, name)
    except NotFound:
        return None


def _holds(obj: dict[str, str] | None, query: dict, conditions: tuple) -> bool:
    for param, field, must_equal in conditions:
        if param not in query:
            continue
        wanted = int(query[param][0])
        # A missing object has generation 0 (the documented meaning of ifGenerationMatch=0).
        actual = int(obj[field]) if obj is not None else 0
        if (actual == wanted) != must_equal:
            return False
    return True


def _refuse(response: Any) -> None:
    response.status = HTTPStatus.PRECONDITION_FAILED
    response.json(
        {
            "error": {
                "code": 412,
                "message": _MESSAGE,
                "errors": [
                    {
                        "message": _MESSAGE,
                        "domain": "global",
                        "reason": "conditionNotMet",
                        "locationType": "header",
                        "location": "If-Match",
                    }
                ],
            }
        }
    )


def _upload_name(request: Any) -> str | None:
    if request.query.get("name"):
        return request.query["name"][0]
    data = request.data
    if isinstance(data, dict):
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else data
        return meta.get("name")
    return None


def _guard_insert(handler: Handler) -> Handler:
    def guarded(request, response, storage, *args, **kwargs):
        name = _upload_name(request)
        if name is not None:
            obj = _current(storage, request.params["bucket_name"], name)
            if not _holds(obj, request.query, _CONDITIONS):
                return _refuse(response)
        return handler(request, response, storage, *args, **kwargs)

    return guarded


def _guard_object(handler: Handler) -> Handler:
    def guarded(request, response, storage, *args, **kwargs):
        params = request.params
        obj = _current(storage, params["bucket_name"], params["object_id"])
        if obj is not None and not _holds(obj, request.query, _CONDITIONS):
            return _refuse(response)
        return handler(request, response, storage, *args, **kwargs)

    return guarded


def _guard_copy(handler: Handler) -> Handler:
    def guarded(request, response, storage, *args, **kwargs):
        params = request.params
        source = _current(storage, params["bucket_name"], params["object_id"])
        target = _current(storage, params["dest_bucket_name"], params["dest_object_id"])
        if source is not None and not _holds(source, request.query, _SOURCE_CONDITIONS):
            return _refuse(response)
        if not _holds(target, request.query, _CONDITIONS):
            return _refuse(response)
        return handler(request, response, storage, *args, **kwargs)

    return guarded


_GUARDS: dict[Handler, Callable[[Handler], Handler]] = {
    objects.insert: _guard_insert,
    objects.copy: _guard_copy,
    objects.rewrite: _guard_copy,
    objects.get: _guard_object,
    objects.download: _guard_object,
    objects.delete: _guard_object,
    objects.patch: _guard_object,
}


def enforce_preconditions() -> None:
    """Make every emulator started in this process honour generation preconditions (idempotent)."""
    if getattr(server, "_preconditions_enforced", False):
        return
    routes = []
    for pattern, handlers in server.HANDLERS:
        wrapped = {method: (_GUARDS[h](h) if h in _GUARDS else h) for method, h in handlers.items()}
        routes.append((pattern, wrapped))
    # The router reads the module-level table on every request, so rebinding it is enough.
    server.HANDLERS = tuple(routes)
    server._preconditions_enforced = True
