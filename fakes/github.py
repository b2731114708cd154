"""An in-process fake of the GitHub REST endpoints for issue comments (list, create, update) and
the authenticated user (GET /user).

As on GitHub: every comment records its author (`user.login`), a comment can be edited only by
its author (403 otherwise; the bot's token is not a repository admin here), and an app
installation token (GitHub Actions' GITHUB_TOKEN) gets 403 "Resource not accessible by
integration" from /user.
"""

from __future__ import annotations

import functools
import json
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

from fakes.base import Fault, HttpFake, JsonHandler, serve

_LIST = re.compile(r"/repos/([\w.-]+/[\w.-]+)/issues/(\d+)/comments")
_ONE = re.compile(r"/repos/([\w.-]+/[\w.-]+)/issues/comments/(\d+)")
BOT = "churn-plan-bot"
ACTIONS_BOT = "github-actions[bot]"


class _Handler(JsonHandler):
    """The GitHub REST endpoints the plan-comment poster calls, over `fake`'s state."""

    fake: FakeGitHub

    def route(self, verb: str) -> None:
        self.answer(verb, functools.partial(self._authorized, verb))

    def _authorized(self, verb: str) -> tuple[int, object]:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in self.fake.users:
            return 401, {"message": "Bad credentials"}
        url = urlparse(self.path)
        login = self.fake.users[token]
        if url.path == "/user" and verb == "GET":
            return self._user(token, login)
        listing, one = _LIST.fullmatch(url.path), _ONE.fullmatch(url.path)
        if listing and verb == "GET":
            return self._list(listing[1], int(listing[2]), parse_qs(url.query))
        if listing and verb == "POST":
            return 201, self.fake.add(listing[1], int(listing[2]), self._body()["body"], login)
        if one and verb == "PATCH":
            return self._edit(int(one[2]), login)
        return 404, {"message": "Not Found"}

    def _body(self) -> dict:
        return json.loads(self.read_body() or b"{}")

    def _user(self, token: str, login: str) -> tuple[int, object]:
        if token in self.fake.app_tokens:
            return 403, {"message": "Resource not accessible by integration"}
        return 200, {"login": login, "type": "User"}

    def _list(self, repo: str, number: int, query: dict[str, list[str]]) -> tuple[int, object]:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        thread = self.fake.comments.get((repo, number), [])
        return 200, thread[(page - 1) * per_page : page * per_page]

    def _edit(self, comment_id: int, login: str) -> tuple[int, object]:
        comment = self.fake.find(comment_id)
        if comment is None:
            return 404, {"message": "Not Found"}
        if comment["user"]["login"] != login:
            return 403, {"message": "Must have admin rights to Repository."}
        comment["body"] = self._body()["body"]
        return 200, comment


@dataclass
class FakeGitHub(HttpFake):
    """State: comments per (repo, issue); `requests` holds (HTTP verb, path) of every call, and
    faults are injected per verb (or "*").

    `users` maps each valid token to its account; tokens in `app_tokens` are installation tokens.
    """

    HANDLER: ClassVar[type[JsonHandler]] = _Handler

    token: str = "test-token"
    users: dict[str, str] = field(
        default_factory=lambda: {"test-token": BOT, "actions-token": ACTIONS_BOT}
    )
    app_tokens: set[str] = field(default_factory=lambda: {"actions-token"})
    comments: dict[tuple[str, int], list[dict]] = field(default_factory=dict)
    next_id: int = 1000

    def add(self, repo: str, issue: int, body: str, author: str = "someone") -> dict:
        """Put a comment on an issue directly (as another user or an earlier run would have)."""
        with self.lock:
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

    def fault_body(self, fault: Fault) -> dict:
        return {"message": fault.message}


def running_github() -> AbstractContextManager[tuple[FakeGitHub, str]]:
    """Serve a fresh fake on a free localhost port; yields (fake, API base URL)."""
    return serve(FakeGitHub())
