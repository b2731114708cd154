"""ci.build_queue: deploy builds wait for every older unfinished build, approval-pending included
(issue 10 A4d), over the real HTTP transport to a fake Cloud Build API."""

from __future__ import annotations

import pytest

from ci import build_queue
from ci.build_queue import QueueError, older_unfinished, verdict
from fakes.cloudbuild import running_cloudbuild

PARENT = "projects/acme-churn-dev/locations/europe-west4"
TAG = "churn-deploy-dev"
# Build.Status, as the Cloud Build v1 reference lists it.
API_STATUSES = {
    "STATUS_UNKNOWN",
    "PENDING",
    "QUEUED",
    "WORKING",
    "SUCCESS",
    "FAILURE",
    "INTERNAL_ERROR",
    "TIMEOUT",
    "CANCELLED",
    "EXPIRED",
}


def build(build_id: str, status: str, created: str, tags=(TAG,)) -> dict:
    return {"id": build_id, "status": status, "createTime": created, "tags": list(tags)}


def test_every_api_status_is_classified_and_pending_counts_as_unfinished():
    assert set(build_queue.UNFINISHED) | set(build_queue.FINISHED) == API_STATUSES
    assert not set(build_queue.UNFINISHED) & set(build_queue.FINISHED)
    assert {"PENDING", "QUEUED", "WORKING"} <= set(build_queue.UNFINISHED)


@pytest.mark.parametrize("status", ["PENDING", "QUEUED", "WORKING", "STATUS_UNKNOWN"])
def test_an_older_unfinished_build_blocks(status):
    builds = [
        build("old", status, "2026-11-27T10:00:00Z"),
        build("me", "WORKING", "2026-11-27T11:00:00Z"),
    ]
    assert [r.id for r in older_unfinished(builds, "me", TAG)] == ["old"]


@pytest.mark.parametrize("status", sorted(build_queue.FINISHED))
def test_a_finished_older_build_does_not_block(status):
    builds = [build("old", status, "2026-11-27T10:00:00Z"), build("me", "QUEUED", "2026-11-27T11Z")]
    with pytest.raises(QueueError, match="not an RFC 3339"):
        older_unfinished(builds, "me", TAG)
    builds[1]["createTime"] = "2026-11-27T11:00:00Z"
    assert older_unfinished(builds, "me", TAG) == []


def test_newer_builds_other_tags_and_ties_are_ordered_once():
    builds = [
        build("newer", "PENDING", "2026-11-27T12:00:00Z"),
        build("prod", "WORKING", "2026-11-27T09:00:00Z", tags=("churn-deploy-prod",)),
        build("b-same-time", "QUEUED", "2026-11-27T11:00:00.5Z"),
        build("a-same-time", "QUEUED", "2026-11-27T11:00:00.500000000Z"),
        build("fraction-earlier", "WORKING", "2026-11-27T11:00:00.123456789Z"),
    ]
    # Two builds created in the same nanosecond: the id decides, so exactly one goes first.
    assert [r.id for r in older_unfinished(builds, "b-same-time", TAG)] == [
        "fraction-earlier",
        "a-same-time",
    ]
    assert [r.id for r in older_unfinished(builds, "a-same-time", TAG)] == ["fraction-earlier"]


def test_offsets_compare_as_instants():
    builds = [
        build("old", "PENDING", "2026-11-27T12:30:00+02:00"),  # 10:30 UTC
        build("me", "WORKING", "2026-11-27T11:00:00Z"),
    ]
    assert [r.id for r in older_unfinished(builds, "me", TAG)] == ["old"]


def test_bad_answers_are_named():
    with pytest.raises(QueueError, match="build me is not among"):
        older_unfinished([build("x", "WORKING", "2026-11-27T11:00:00Z")], "me", TAG)
    with pytest.raises(QueueError, match="unknown status 'PAUSED'"):
        older_unfinished([build("me", "PAUSED", "2026-11-27T11:00:00Z")], "me", TAG)
    with pytest.raises(QueueError, match="not a valid build tag"):
        build_queue.list_filter('x" OR tags="y', True)


def test_verdict_success_wait_missing():
    assert verdict([build("a", "FAILURE", "2026-11-27T11:00:00Z")], TAG) == "missing"
    assert verdict([build("a", "PENDING", "2026-11-27T11:00:00Z")], TAG) == "wait"
    done = [
        build("a", "FAILURE", "2026-11-27T10:00:00Z"),
        build("b", "SUCCESS", "2026-11-27T11:00:00Z"),
    ]
    assert verdict(done, TAG) == "success"


def cli(*argv: str, sleep=lambda _s: None) -> int:
    return build_queue.main(list(argv), sleep=sleep)


@pytest.fixture
def cloudbuild(monkeypatch):
    with running_cloudbuild() as (fake, host):
        monkeypatch.setenv("CLOUD_BUILD_EMULATOR_HOST", host)
        yield fake


def test_a_build_waiting_for_approval_holds_the_newer_one_until_it_ends(cloudbuild, capsys):
    fake = cloudbuild
    fake.add(PARENT, "done", "SUCCESS", "2026-11-27T09:00:00Z", [TAG])
    fake.add(PARENT, "awaiting-approval", "PENDING", "2026-11-27T10:00:00Z", [TAG])
    fake.add(PARENT, "me", "WORKING", "2026-11-27T11:00:00Z", [TAG])
    fake.add(PARENT, "later", "QUEUED", "2026-11-27T12:00:00Z", [TAG])
    polls = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        # First the approver approves (WORKING), then the older build finishes.
        fake.set_status("awaiting-approval", "WORKING" if len(polls) == 1 else "SUCCESS")

    argv = ["wait-older", "--project", "acme-churn-dev", "--location", "europe-west4"]
    code = cli(*argv, "--tag", TAG, "--build", "me", "--poll", "7", sleep=sleep)
    out = capsys.readouterr().out
    assert code == 0
    assert polls == [7, 7]
    assert "awaiting-approval (PENDING)" in out and "awaiting-approval (WORKING)" in out
    assert "going ahead" in out
    # The API was asked for the unfinished statuses, PENDING among them.
    assert 'status="PENDING"' in fake.requests[0][1]["filter"]
    assert fake.requests[0][1]["filter"].startswith(f'tags="{TAG}" AND (')


def test_waiting_gives_up_at_the_timeout(cloudbuild, capsys):
    cloudbuild.add(PARENT, "stuck", "PENDING", "2026-11-27T10:00:00Z", [TAG])
    cloudbuild.add(PARENT, "me", "WORKING", "2026-11-27T11:00:00Z", [TAG])
    argv = ["wait-older", "--project", "acme-churn-dev", "--location", "europe-west4"]
    assert cli(*argv, "--tag", TAG, "--build", "me", "--timeout", "0") == 1
    assert "still waiting after 0.0s for: stuck (PENDING)" in capsys.readouterr().err


def test_require_success_pages_through_and_waits_for_an_unfinished_build(cloudbuild, capsys):
    tag = "churn-commit-abc"
    for i in range(230):  # three pages of failed attempts
        cloudbuild.add(
            PARENT, f"f{i:03}", "FAILURE", f"2026-11-26T10:{i // 60:02}:{i % 60:02}Z", [tag]
        )
    argv = ["require-success", "--project", "acme-churn-dev", "--location", "europe-west4"]
    assert cli(*argv, "--tag", tag) == 1
    assert "no successful 'churn-commit-abc' build" in capsys.readouterr().err
    assert sum(1 for _, q in cloudbuild.requests if "pageToken" in q) == 2

    cloudbuild.add(PARENT, "retry", "QUEUED", "2026-11-27T10:00:00Z", [tag])
    assert cli(*argv, "--tag", tag, sleep=lambda _s: cloudbuild.set_status("retry", "SUCCESS")) == 0


def test_an_api_error_is_a_clear_failure(cloudbuild, capsys):
    get = build_queue.http_getter()
    with pytest.raises(QueueError, match=r"HTTP 400: .*invalid filter term"):
        build_queue.list_builds(get, "acme-churn-dev", "europe-west4", "createTime<5")
    argv = ["wait-older", "--project", "acme-churn-dev", "--location", "europe-west4"]
    assert cli(*argv, "--tag", TAG, "--build", "me") == 1
    assert "build me is not among the builds tagged" in capsys.readouterr().err
