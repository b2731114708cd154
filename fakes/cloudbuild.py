"""An in-process fake of Cloud Build's builds.list (REST v1), enough for ci/build_queue.py.

Like the API: builds come newest first, in pages with an opaque `nextPageToken` (a token it did
not issue is INVALID_ARGUMENT); the filter is the documented query language for the subset
build_queue uses — `field="value"` terms on `tags` and `status`, joined by AND, with one level of
parenthesised OR — and anything else is refused with 400 rather than silently ignored.
"""

from __future__ import annotations

import base64
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

from fakes.base import HttpFake, JsonHandler, serve

_LIST = re.compile(r"/v1/projects/([a-z][a-z0-9-]+)/locations/([a-z0-9-]+)/builds")
_TERM = re.compile(r'^(tags|status)="([^"]*)"$')


class FilterError(ValueError):
    """A filter the fake (and build_queue) does not speak."""


def parse_filter(text: str) -> list[list[tuple[str, str]]]:
    """`a AND (b OR c)` -> [[a], [b, c]]: every group must have a matching term."""
    groups = []
    for part in re.split(r"\s+AND\s+", text.strip()):
        inner = part[1:-1] if part.startswith("(") and part.endswith(")") else part
        terms = []
        for term in re.split(r"\s+OR\s+", inner):
            match = _TERM.match(term.strip())
            if not match:
                raise FilterError(f"invalid filter term {term!r}")
            terms.append((match.group(1), match.group(2)))
        if len(terms) > 1 and inner is part:
            raise FilterError("OR needs parentheses next to AND")
        groups.append(terms)
    return groups


def matches(build: dict, groups: list[list[tuple[str, str]]]) -> bool:
    def one(name: str, value: str) -> bool:
        return value in build.get("tags", []) if name == "tags" else build["status"] == value

    return all(any(one(n, v) for n, v in group) for group in groups)


class _Handler(JsonHandler):
    fake: FakeCloudBuild

    def route(self, verb: str) -> None:
        url = urlparse(self.path)
        match = _LIST.fullmatch(url.path)
        if verb != "GET" or not match:
            return self.reply(*_error(404, "NOT_FOUND", f"no route {verb} {url.path}"))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parent = f"projects/{match.group(1)}/locations/{match.group(2)}"
        return self.answer("builds.list", lambda: self.fake.list_builds(parent, query), query)


@dataclass
class FakeCloudBuild(HttpFake):
    """Builds per parent (`projects/P/locations/L`); `requests` keeps each list's query."""

    HANDLER: ClassVar[type[JsonHandler]] = _Handler

    builds: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, parent: str, build_id: str, status: str, created: str, tags: list[str]) -> dict:
        build = {"id": build_id, "status": status, "createTime": created, "tags": tags}
        with self.lock:
            self.builds.setdefault(parent, []).append(build)
        return build

    def set_status(self, build_id: str, status: str) -> None:
        with self.lock:
            for builds in self.builds.values():
                for build in builds:
                    if build["id"] == build_id:
                        build["status"] = status

    def list_builds(self, parent: str, query: dict[str, str]) -> tuple[int, dict]:
        """builds.list: newest first, filtered, one page."""
        try:
            groups = parse_filter(query.get("filter", "")) if query.get("filter") else []
            size = int(query.get("pageSize", "50"))
            start = int(base64.b64decode(query["pageToken"])) if "pageToken" in query else 0
        except (FilterError, ValueError) as err:
            return _error(400, "INVALID_ARGUMENT", str(err))
        with self.lock:
            builds = [dict(b) for b in self.builds.get(parent, []) if matches(b, groups)]
        builds.sort(key=lambda b: b["createTime"], reverse=True)
        page = builds[start : start + size]
        body: dict = {"builds": page} if page else {}
        if start + size < len(builds):
            body["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        return 200, body

    def address(self, host: str, port: int) -> str:
        return f"{host}:{port}"  # what CLOUD_BUILD_EMULATOR_HOST holds


def _error(code: int, status: str, message: str) -> tuple[int, dict]:
    return code, {"error": {"code": code, "status": status, "message": message}}


def running_cloudbuild() -> AbstractContextManager[tuple[FakeCloudBuild, str]]:
    """Serve a fresh fake on a free localhost port; yields (fake, host:port)."""
    return serve(FakeCloudBuild())
