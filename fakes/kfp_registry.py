"""A fake Kubeflow pipeline registry (the HTTP API Artifact Registry's KFP repositories serve).

Speaks the endpoints `kfp.registry.RegistryClient` uses for a host outside *-kfp.pkg.dev (its
default context): multipart upload at the host URL, then packages/<name>/tags[/<tag>] to read,
create, move and delete tags, and <name>/<tag|version> to download. Keeps what the real service
keeps: versions named by their content's sha256, tags that point at one version each, 409 on a
tag that exists, 404 on one that does not.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import yaml


@dataclass
class Registry:
    """Packages: name -> {version -> content}; tags: (name, tag) -> version."""

    prefix: str = "/acme/pipelines"
    versions: dict[str, dict[str, bytes]] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def tag_target(self, package: str, tag: str) -> bytes | None:
        version = self.tags.get((package, tag))
        return None if version is None else self.versions[package][version]


class _Handler(BaseHTTPRequestHandler):
    registry: Registry

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: str | dict | bytes = "") -> None:
        if isinstance(body, dict):
            body = json.dumps(body)
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        url = urlparse(self.path)
        self.registry.requests.append((self.command, url.path))
        path = url.path
        if not path.startswith(self.registry.prefix):
            return "", {}
        return path[len(self.registry.prefix) :].strip("/"), parse_qs(url.query)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self) -> None:
        path, query = self._route()
        body = self._body()
        if path == "":
            self._upload(body)
            return
        match = re.fullmatch(r"packages/([^/]+)/tags", path)
        if match and "tagId" in query:
            package, tag = match.group(1), query["tagId"][0]
            version = json.loads(body)["version"].rsplit("/", 1)[1]
            if (package, tag) in self.registry.tags:
                self._reply(409, {"error": f"tag {tag} exists"})
            elif version not in self.registry.versions.get(package, {}):
                self._reply(404, {"error": f"version {version} not found"})
            else:
                self.registry.tags[(package, tag)] = version
                self._reply(200, self._tag_json(package, tag))
            return
        self._reply(404, {"error": path})

    def do_PATCH(self) -> None:
        path, _ = self._route()
        body = self._body()
        match = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        if match and (match.group(1), match.group(2)) in self.registry.tags:
            version = json.loads(body)["version"].rsplit("/", 1)[1]
            self.registry.tags[(match.group(1), match.group(2))] = version
            self._reply(200, self._tag_json(match.group(1), match.group(2)))
            return
        self._reply(404, {"error": path})

    def do_DELETE(self) -> None:
        path, _ = self._route()
        match = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        if match and self.registry.tags.pop((match.group(1), match.group(2)), None):
            self._reply(200, {})
            return
        self._reply(404, {"error": path})

    def do_GET(self) -> None:
        path, _ = self._route()
        match = re.fullmatch(r"packages/([^/]+)/tags/([^/]+)", path)
        if match:
            if (match.group(1), match.group(2)) in self.registry.tags:
                self._reply(200, self._tag_json(match.group(1), match.group(2)))
            else:
                self._reply(404, {"error": "tag not found"})
            return
        match = re.fullmatch(r"([^/]+)/([^/]+)", path)
        if match:
            package, ref = match.groups()
            content = self.registry.versions.get(package, {}).get(ref)
            content = content or self.registry.tag_target(package, ref)
            if content is not None:
                self._reply(200, content)
                return
        self._reply(404, {"error": path})

    def _tag_json(self, package: str, tag: str) -> dict:
        version = self.registry.tags[(package, tag)]
        return {
            "name": f"packages/{package}/tags/{tag}",
            "version": f"packages/{package}/versions/{version}",
        }

    def _upload(self, body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields = {
            part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()
        }
        content = fields.get("content")
        if not content:
            self._reply(400, {"error": "no 'content' file in the upload"})
            return
        try:
            package = yaml.safe_load(content)["pipelineInfo"]["name"]
        except Exception:
            self._reply(400, {"error": "not a pipeline template"})
            return
        version = "sha256:" + hashlib.sha256(content).hexdigest()
        tags = [t for t in (fields.get("tags") or b"").decode().split(",") if t]
        taken = [t for t in tags if self.registry.tags.get((package, t), version) != version]
        if taken:
            self._reply(409, {"error": f"tags already in use: {', '.join(taken)}"})
            return
        self.registry.versions.setdefault(package, {})[version] = content
        for tag in tags:
            self.registry.tags[(package, tag)] = version
        self._reply(200, f"{package}/{version}")


@contextlib.contextmanager
def kfp_registry(prefix: str = "/acme/pipelines") -> Iterator[tuple[Registry, str]]:
    """Serve a fake registry on a free localhost port; yields (registry, host URL)."""
    registry = Registry(prefix=prefix)
    handler = type("Handler", (_Handler,), {"registry": registry})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry, f"http://127.0.0.1:{server.server_port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
