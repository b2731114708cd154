"""An in-process fake of the GitHub REST endpoints for issue comments (list, create, update) and
the authenticated user (GET /user).

As on GitHub: every comment records its author (`user.login`), a comment can be edited only by
its author (403 otherwise; the bot's token is not a repository admin here), and an app
installation token (GitHub Actions' GITHUB_TOKEN) gets 403 "Resource not accessible by
integration" from /user.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_LIST = re.compile(r"/repos/([\w.-]+/[\w.-]+)/issues/(\d+)/comments")
_ONE = re.compile(r"/repos/([\w.-]+/[\w.-]+)/issues/comments/(\d+)")
BOT = "churn-plan-bot"
ACTIONS_BOT = "github-actions[bot]"


@dataclass
class FakeGitHub:
    """State: comments per (repo, issue); every request seen; a status to fail with, if set.

    `users` maps each valid token to its account; tokens in `app_tokens` are installation tokens.
    """

    token: str = "test-token"
    users: dict[str, str] = field(
        default_factory=lambda: {"test-token": BOT, "actions-token": ACTIONS_BOT}
    )
    app_tokens: set[str] = field(default_factory=lambda: {"actions-token"})
    comments: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_with: int | None = None
    next_id: int = 1000

    def add(self, repo: str, issue: int, body: str, author: str = "someone") -> dict:
        """Put a comment on an issue directly (as another user or an earlier run would have)."""
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"},
            "html_url": f"https://github.test/{repo}/pull/{issue}#issuecomment-{self.next_id}",
        }
        self.comments.setdefault((repo, issue), []).append(comment)
        return comment

    def find(self, comment_id: int) -> dict | None:
        for thread in self.comments.values():
            for comment in thread:
                if comment["id"] == comment_id:
                    return comment
        return None


class _Handler(BaseHTTPRequestHandler):
    """The GitHub REST endpoints the plan-comment poster calls, over `fake`'s state."""

    fake: FakeGitHub

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _reply(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"{}")

    def _handle(self) -> None:
        fake = self.fake
        fake.requests.append((self.command, self.path))
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in fake.users:
            return self._reply(401, {"message": "Bad credentials"})
        if fake.fail_with is not None:
            return self._reply(fake.fail_with, {"message": "injected failure"})
        return self._route(token, fake.users[token])

    def _route(self, token: str, login: str) -> None:
        url = urlparse(self.path)
        if url.path == "/user" and self.command == "GET":
            return self._user(token, login)
        listing, one = _LIST.fullmatch(url.path), _ONE.fullmatch(url.path)
        if listing and self.command == "GET":
            return self._list(listing[1], int(listing[2]), parse_qs(url.query))
        if listing and self.command == "POST":
            comment = self.fake.add(listing[1], int(listing[2]), self._body()["body"], login)
            return self._reply(201, comment)
        if one and self.command == "PATCH":
            return self._edit(int(one[2]), login)
        return self._reply(404, {"message": "Not Found"})

    def _user(self, token: str, login: str) -> None:
        if token in self.fake.app_tokens:
            return self._reply(403, {"message": "Resource not accessible by integration"})
        return self._reply(200, {"login": login, "type": "User"})

    def _list(self, repo: str, number: int, query: dict[str, list[str]]) -> None:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        thread = self.fake.comments.get((repo, number), [])
        return self._reply(200, thread[(page - 1) * per_page : page * per_page])

    def _edit(self, comment_id: int, login: str) -> None:
        comment = self.fake.find(comment_id)
        if comment is None:
            return self._reply(404, {"message": "Not Found"})
        if comment["user"]["login"] != login:
            return self._reply(403, {"message": "Must have admin rights to Repository."})
        comment["body"] = self._body()["body"]
        return self._reply(200, comment)

    do_GET = do_POST = do_PATCH = _handle  # noqa: N815 (http.server's naming)


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to `fake` (http.server builds one handler per request)."""
    return type("Handler", (_Handler,), {"fake": fake})


@contextlib.contextmanager
def running_github() -> Iterator[tuple[FakeGitHub, str]]:
    """Serve a fresh fake on a free localhost port; yields (fake, API base URL)."""
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
