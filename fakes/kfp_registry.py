"""A fake Kubeflow pipeline registry (the HTTP API Artifact Registry's KFP repositories serve).

Speaks the endpoints `kfp.registry.RegistryClient` uses for a host outside *-kfp.pkg.dev (its
default context): multipart upload at the host URL, then packages/<name>/tags[/<tag>] to read,
create, move and delete tags, and <name>/<tag|version> to download. Keeps what the real service
keeps: versions named by their content's sha256, tags that point at one version each, 409 on a
tag that exists, 404 on one that does not.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import hashlib
import json
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import yaml

from fakes.base import HttpFake, JsonHandler, serve

#: (HTTP status, payload) of one call
Reply = tuple[int, Any]


class _Handler(JsonHandler):
    fake: Registry

    def route(self, verb: str) -> None:
        url = urlparse(self.path)
        prefix = self.fake.prefix
        if not url.path.startswith(prefix):
            return self.reply(404, {"error": url.path})
        path, query = url.path[len(prefix) :].strip("/"), parse_qs(url.query)
        body = self.read_body()
        if verb == "POST" and path == "":
            content_type = self.headers["Content-Type"]
            return self.answer("upload", lambda: self.fake.upload(content_type, body), url.path)
        serve = {
            "GET": self.fake.get,
            "POST": functools.partial(self.fake.create_tag, query=query, body=body),
            "PATCH": functools.partial(self.fake.move_tag, body=body),
            "DELETE": self.fake.delete_tag,
        }.get(verb)
        if serve is None:
            return self.reply(405, {"error": verb})
        return self.answer(verb, functools.partial(serve, path), url.path)


@dataclass
class Registry(HttpFake):
    """Packages: name -> {version -> content}; tags: (name, tag) -> version."""

    HANDLER: ClassVar[type[JsonHandler]] = _Handler

    prefix: str = "/acme/pipelines"
    versions: dict[str, dict[str, bytes]] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)

    def tag_target(self, package: str, tag: str) -> bytes | None:
        version = self.tags.get((package, tag))
        return None if version is None else self.versions[package][version]

    def address(self, host: str, port: int) -> str:
        return f"http://{host}:{port}{self.prefix}"

    def _tag_json(self, package: str, tag: str) -> dict:
        version = self.tags[(package, tag)]
        return {
            "name": f"packages/{package}/tags/{tag}",
            "version": f"packages/{package}/versions/{version}",
        }

    def create_tag(self, path: str, query: dict, body: bytes) -> Reply:
        match = re.fullmatch(r"packages/([^/]+)/tags", path)
        if not match or "tagId" not in query:
            return 404, {"error": path}
        package, tag = match.group(1), query["tagId"][0]
        version = json.loads(body)["version"].rsplit("/", 1)[1]
        with self.lock:
            if (package, tag) in self.tags:
                return 409, {"error": f"tag {tag} exists"}
            if version not in self.versions.get(package, {}):
                return 404, {"error": f"version {version} not found"}
            self.tags[(package, tag)] = version
            return 200, self._tag_json(package, tag)

    def move_tag(self, path: str, body: bytes) -> Reply:
        match = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        with self.lock:
            if not match or match.groups() not in self.tags:
                return 404, {"error": path}
            self.tags[match.groups()] = json.loads(body)["version"].rsplit("/", 1)[1]
            return 200, self._tag_json(*match.groups())

    def delete_tag(self, path: str) -> Reply:
        match = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        with self.lock:
            if match and self.tags.pop(match.groups(), None):
                return 200, {}
        return 404, {"error": path}

    def get(self, path: str) -> Reply:
        tag = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        if tag:
            if tag.groups() in self.tags:
                return 200, self._tag_json(*tag.groups())
            return 404, {"error": "tag not found"}
        download = re.fullmatch(r"([^/]+)/([^/]+)", path)
        if download:
            package, ref = download.groups()
            content = self.versions.get(package, {}).get(ref) or self.tag_target(package, ref)
            if content is not None:
                return 200, content
        return 404, {"error": path}

    def upload(self, content_type: str, body: bytes) -> Reply:
        """A multipart upload of a template (`content`) with optional comma-separated `tags`."""
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        content = fields.get("content")
        if not content:
            return 400, {"error": "no 'content' file in the upload"}
        try:
            package = yaml.safe_load(content)["pipelineInfo"]["name"]
        except Exception:
            return 400, {"error": "not a pipeline template"}
        version = "sha256:" + hashlib.sha256(content).hexdigest()
        tags = [t for t in (fields.get("tags") or b"").decode().split(",") if t]
        with self.lock:
            taken = [t for t in tags if self.tags.get((package, t), version) != version]
            if taken:
                return 409, {"error": f"tags already in use: {', '.join(taken)}"}
            self.versions.setdefault(package, {})[version] = content
            for tag in tags:
                self.tags[(package, tag)] = version
        return 200, f"{package}/{version}"


def kfp_registry(prefix: str = "/acme/pipelines") -> AbstractContextManager[tuple[Registry, str]]:
    """Serve a fake registry on a free localhost port; yields (registry, host URL)."""
    return serve(Registry(prefix=prefix))
