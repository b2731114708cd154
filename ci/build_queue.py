"""Order Cloud Build deploy builds of one environment (Cloud Build REST API, v1).

Cloud Build has no concurrency groups. Every deploy build carries the tag `churn-deploy-<env>`
(cloudbuild/deploy.yaml), and:

    python -m ci.build_queue wait-older --project P --location L --build ID --tag T
        waits until no build with tag T created before build ID is still unfinished, so two
        merges never publish and apply at once and they apply in merge order;
    python -m ci.build_queue require-success --project P --location L --tag T
        exits 0 when a build with tag T succeeded (the prod build asks for dev's build of the
        same commit, tag `churn-commit-<sha>`), waits while one is unfinished, 1 otherwise.

"Unfinished" is every non-terminal Build.Status of the API: PENDING (waiting for approval),
QUEUED, WORKING, and STATUS_UNKNOWN. `gcloud builds list --ongoing` lists only QUEUED and
WORKING, so a build waiting for approval was invisible and a newer build could overtake it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

API = "https://cloudbuild.googleapis.com/v1"
#: Build.Status values (cloudbuild v1 reference), split by whether the build can still run.
UNFINISHED = ("STATUS_UNKNOWN", "PENDING", "QUEUED", "WORKING")
FINISHED = ("SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED")
PAGE_SIZE = 100
MAX_PAGES = 50
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")  # Build.tags, as the API accepts them
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


class QueueError(Exception):
    """The builds could not be listed or do not make sense; the message says which."""


@dataclass(frozen=True, order=True)
class BuildRef:
    """A build's place in the queue: creation time (ns since epoch), then id as a tie-break."""

    created_ns: int
    id: str
    status: str = ""


def created_ns(text: str) -> int:
    """An RFC 3339 timestamp as the API writes it (up to 9 fraction digits) in ns since epoch."""
    match = _TIME.match(text or "")
    if not match:
        raise QueueError(f"createTime {text!r} is not an RFC 3339 timestamp")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    seconds = datetime.fromisoformat(match.group(1) + zone).astimezone(UTC).timestamp()
    fraction = (match.group(2) or "").ljust(9, "0")
    return int(seconds) * 1_000_000_000 + int(fraction)


def as_ref(build: dict[str, Any]) -> BuildRef:
    """The queue position and status of one Build resource (JSON)."""
    status = str(build.get("status", "STATUS_UNKNOWN"))
    if status not in UNFINISHED + FINISHED:
        raise QueueError(f"build {build.get('id')}: unknown status {status!r}")
    return BuildRef(created_ns(str(build.get("createTime", ""))), str(build.get("id")), status)


def older_unfinished(builds: Iterable[dict[str, Any]], me: str, tag: str) -> list[BuildRef]:
    """Builds tagged `tag` that were created before build `me` and are not finished, oldest
    first. Build `me` must be among `builds` (it is running, so it is listed)."""
    refs = [as_ref(b) for b in builds if tag in (b.get("tags") or [])]
    mine = [r for r in refs if r.id == me]
    if not mine:
        raise QueueError(f"build {me} is not among the builds tagged '{tag}'")
    return sorted(r for r in refs if r < mine[0] and r.status in UNFINISHED)


def verdict(builds: Iterable[dict[str, Any]], tag: str) -> str:
    """'success' when a build tagged `tag` succeeded, 'wait' while one is unfinished, else
    'missing'."""
    refs = [as_ref(b) for b in builds if tag in (b.get("tags") or [])]
    if any(r.status == "SUCCESS" for r in refs):
        return "success"
    if any(r.status in UNFINISHED for r in refs):
        return "wait"
    return "missing"


def list_filter(tag: str, unfinished_only: bool) -> str:
    """The API filter: the tag, and (for the queue) the unfinished statuses."""
    if not _TAG.match(tag):
        raise QueueError(f"tag {tag!r} is not a valid build tag")
    text = f'tags="{tag}"'
    if unfinished_only:
        text += " AND (" + " OR ".join(f'status="{s}"' for s in UNFINISHED) + ")"
    return text


Getter = Callable[[str, dict[str, Any]], dict[str, Any]]


def list_builds(get: Getter, project: str, location: str, filter_text: str) -> list[dict]:
    """Every build of projects/P/locations/L matching `filter_text`, all pages."""
    url = f"projects/{project}/locations/{location}/builds"
    builds: list[dict] = []
    token = ""
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"filter": filter_text, "pageSize": PAGE_SIZE}
        if token:
            params["pageToken"] = token
        page = get(url, params)
        builds += page.get("builds", [])
        token = page.get("nextPageToken", "")
        if not token:
            return builds
    raise QueueError(f"more than {MAX_PAGES * PAGE_SIZE} builds match {filter_text}")


def http_getter() -> Getter:
    """GET on the Cloud Build API with Application Default Credentials (the build's account).

    CLOUD_BUILD_EMULATOR_HOST (tests) points it at a local fake, without credentials.
    """
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession

    host = os.environ.get("CLOUD_BUILD_EMULATOR_HOST")
    if host:
        session, base = AuthorizedSession(AnonymousCredentials()), f"http://{host}/v1"
    else:
        credentials, _ = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
        session, base = AuthorizedSession(credentials), API

    def get(path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = session.get(f"{base}/{path}", params=params, timeout=60)
        if response.status_code != 200:
            raise QueueError(f"GET {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    return get


def wait_older(args: argparse.Namespace, get: Getter, sleep: Callable[[float], None]) -> int:
    deadline = time.monotonic() + args.timeout
    filter_text = list_filter(args.tag, unfinished_only=True)
    while True:
        older = older_unfinished(
            list_builds(get, args.project, args.location, filter_text), args.build, args.tag
        )
        if not older:
            print(f"no older unfinished '{args.tag}' build: going ahead")
            return 0
        names = ", ".join(f"{r.id} ({r.status})" for r in older)
        if time.monotonic() >= deadline:
            print(f"error: still waiting after {args.timeout}s for: {names}", file=sys.stderr)
            return 1
        print(f"waiting for older '{args.tag}' build(s): {names}", flush=True)
        sleep(args.poll)


def require_success(args: argparse.Namespace, get: Getter, sleep: Callable[[float], None]) -> int:
    deadline = time.monotonic() + args.timeout
    filter_text = list_filter(args.tag, unfinished_only=False)
    while True:
        state = verdict(list_builds(get, args.project, args.location, filter_text), args.tag)
        if state == "success":
            print(f"a '{args.tag}' build succeeded in {args.project}")
            return 0
        if state == "missing" or time.monotonic() >= deadline:
            print(
                f"error: no successful '{args.tag}' build in {args.project}/{args.location}"
                + (" (still unfinished)" if state == "wait" else ""),
                file=sys.stderr,
            )
            return 1
        print(f"waiting for the '{args.tag}' build in {args.project} to finish", flush=True)
        sleep(args.poll)


def main(
    argv: list[str] | None = None,
    get: Getter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """CLI: wait-older | require-success; exit 0 to go ahead, 1 otherwise (message on stderr)."""
    parser = argparse.ArgumentParser(prog="python -m ci.build_queue", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("wait-older", "require-success"):
        one = sub.add_parser(name)
        one.add_argument("--project", required=True)
        one.add_argument("--location", required=True)
        one.add_argument("--tag", required=True)
        one.add_argument("--poll", type=float, default=30.0, help="seconds between checks")
        one.add_argument("--timeout", type=float, default=6600.0, help="give up after (s)")
        if name == "wait-older":
            one.add_argument("--build", required=True, help="this build's id ($BUILD_ID)")
    args = parser.parse_args(argv)
    run = wait_older if args.command == "wait-older" else require_success
    try:
        return run(args, get or http_getter(), sleep)
    except QueueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
