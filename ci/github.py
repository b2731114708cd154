"""Create or update one pull-request comment, found by a hidden marker (GitHub REST API, stdlib).

Plain `urllib` and nothing outside the standard library, so the same code runs in GitHub Actions
and in the trusted Cloud Build comment step with a bare Python, without `gh` and without the
pull request's installed environment (which is untrusted code).

Only a comment written by the bot's own account is ever edited: anyone can write a comment that
carries the marker, and editing the first such comment would let them have the bot overwrite
(or be credited with) arbitrary text.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 100
# A pull request with thousands of comments is not a case worth paging through forever.
MAX_PAGES = 50
TIMEOUT_S = 30


class GitHubError(Exception):
    """A GitHub API call failed; the message names the method, URL and status."""


@dataclass(frozen=True)
class Outcome:
    """What upsert_comment did: 'created' or 'updated', and the comment's URL."""

    action: str
    url: str


def _call(method: str, url: str, token: str, payload: dict[str, Any] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:300]
        raise GitHubError(f"{method} {url}: HTTP {err.code}: {detail}") from err
    except (urllib.error.URLError, TimeoutError) as err:
        raise GitHubError(f"{method} {url}: {err}") from err
    except json.JSONDecodeError as err:
        raise GitHubError(f"{method} {url}: response is not JSON: {err.msg}") from err


def authenticated_login(api_url: str, token: str) -> str:
    """The login of the account `token` belongs to (GET /user).

    GitHub Actions' GITHUB_TOKEN is an app installation token and cannot call /user (403): pass
    the author explicitly there (`github-actions[bot]`).
    """
    url = f"{api_url.rstrip('/')}/user"
    try:
        user = _call("GET", url, token)
    except GitHubError as err:
        raise GitHubError(
            f"{err} (cannot tell which account this token is; an app token such as GitHub "
            "Actions' GITHUB_TOKEN needs --author, e.g. 'github-actions[bot]')"
        ) from None
    login = user.get("login") if isinstance(user, dict) else None
    if not isinstance(login, str) or not login:
        raise GitHubError(f"GET {url}: no login in the answer")
    return login


def find_comment(comments: list[dict[str, Any]], marker: str, author: str) -> dict[str, Any] | None:
    """The first comment written by `author` whose body contains `marker`, or None."""
    for comment in comments:
        login = (comment.get("user") or {}).get("login")
        if login == author and marker in str(comment.get("body") or ""):
            return comment
    return None


def upsert_comment(
    api_url: str,
    repo: str,
    pr: int,
    token: str,
    body: str,
    marker: str,
    author: str | None = None,
) -> Outcome:
    """Update the PR's comment that `author` wrote with `marker` to `body`, or create one.

    `author` defaults to the token's own account (GET /user); comments by anyone else are never
    edited, whatever they contain.
    """
    base = api_url.rstrip("/")
    me = author or authenticated_login(base, token)
    listing = f"{base}/repos/{repo}/issues/{pr}/comments"
    for page in range(1, MAX_PAGES + 1):
        comments = _call("GET", f"{listing}?per_page={PAGE_SIZE}&page={page}", token)
        if not isinstance(comments, list):
            raise GitHubError(f"GET {listing}: expected a list of comments")
        found = find_comment(comments, marker, me)
        if found is not None:
            url = f"{base}/repos/{repo}/issues/comments/{found['id']}"
            updated = _call("PATCH", url, token, {"body": body})
            return Outcome("updated", str(updated.get("html_url", url)))
        if len(comments) < PAGE_SIZE:
            break
    created = _call("POST", listing, token, {"body": body})
    return Outcome("created", str(created.get("html_url", listing)))
