"""The per-environment apply lock: a GCS object with generation preconditions (GCS emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from google.cloud import storage

from fakes.gcs import inject_fault
from scheduling.cli import main
from scheduling.lock import ApplyLock, LockError, force_unlock, lock_location
from tests.scheduling.conftest import REPO

BASE = "gs://acme-churn-dev-templates/templates"
LOCK_OBJECT = "templates/_locks/schedule-apply-dev.json"


class Clock:
    """A settable clock shared by the applies of one test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def client(gcs) -> storage.Client:
    return storage.Client(project="acme-churn-dev")


def lock(client, clock: Clock, env: str = "dev") -> ApplyLock:
    return ApplyLock(client, BASE, env, clock=clock, sleep=lambda _s: None)


def test_the_emulator_enforces_generation_preconditions(client):
    """The lock is only as good as `ifGenerationMatch=0`; make sure the fake keeps that rule."""
    blob = client.bucket("acme-churn-dev-templates").blob("probe")
    blob.upload_from_string(b"one", if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed):
        client.bucket("acme-churn-dev-templates").blob("probe").upload_from_string(
            b"two", if_generation_match=0
        )


def test_where_the_lock_lives():
    assert lock_location(BASE, "dev") == ("acme-churn-dev-templates", LOCK_OBJECT)
    assert lock_location("gs://bucket", "prod") == ("bucket", "_locks/schedule-apply-prod.json")


def test_one_holder_at_a_time_and_the_second_is_told_who(client):
    clock = Clock()
    first, second = lock(client, clock), lock(client, clock)
    held = first.acquire("alice@ci pid 1", "abc123")
    with pytest.raises(LockError) as err:
        second.acquire("bob@ci pid 2", "def456")
    message = str(err.value)
    assert (
        "environment 'dev' is locked by another apply: held by alice@ci pid 1, commit abc123"
        in (message)
    )
    assert "expires 2026-11-30T12:10:00Z" in message
    assert f"--generation {held.generation}" in message
    content = json.loads(
        client.bucket("acme-churn-dev-templates").blob(LOCK_OBJECT).download_as_bytes()
    )
    assert content["holder"] == "alice@ci pid 1" and content["commit"] == "abc123"
    assert first.release() is True
    second.acquire("bob@ci pid 2", "def456")
    assert second.release() is True
    assert client.bucket("acme-churn-dev-templates").get_blob(LOCK_OBJECT) is None


def test_environments_lock_separately(client):
    clock = Clock()
    dev = lock(client, clock, "dev").acquire("a")
    staging = lock(client, clock, "staging").acquire("b")  # a different object: no conflict
    assert (dev.holder, staging.holder) == ("a", "b")
    names = {b.name for b in client.list_blobs("acme-churn-dev-templates")}
    assert names == {LOCK_OBJECT, "templates/_locks/schedule-apply-staging.json"}


def test_an_expired_lock_is_taken_over_and_its_old_holder_cannot_touch_the_new_one(client):
    clock = Clock()
    dead, alive = lock(client, clock), lock(client, clock)
    dead.acquire("crashed apply")
    clock.now += timedelta(minutes=11)
    taken = alive.acquire("new apply")
    assert alive.took_over is not None and alive.took_over.holder == "crashed apply"
    # the old holder wakes up: it may neither keep writing nor delete the new lock
    with pytest.raises(LockError, match="another apply took it over after it expired"):
        dead.extend_if_due()
    assert dead.release() is False
    blob = client.bucket("acme-churn-dev-templates").get_blob(LOCK_OBJECT)
    assert blob is not None and int(blob.generation) == taken.generation
    assert alive.release() is True


def test_a_long_apply_extends_its_lock(client):
    clock = Clock()
    holder, other = lock(client, clock), lock(client, clock)
    first = holder.acquire("long apply")
    clock.now += timedelta(minutes=4)
    holder.extend_if_due()  # not yet due: nothing written
    assert holder.held.generation == first.generation
    clock.now += timedelta(minutes=2)
    holder.extend_if_due()
    assert holder.held.expires == clock.now + timedelta(minutes=10)
    clock.now += timedelta(minutes=8)  # 14 minutes after it was taken, but extended at 6
    with pytest.raises(LockError, match="is locked by another apply"):
        other.acquire("second")


def test_waiting_for_the_lock_gives_up_after_the_timeout(client):
    clock = Clock()
    lock(client, clock).acquire("first")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    waiter = ApplyLock(client, BASE, "dev", clock=clock, sleep=sleep)
    started = time.monotonic()
    with pytest.raises(LockError):
        waiter.acquire("second", wait=0.3)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert waits and all(0 < w <= 0.3 for w in waits)


def test_a_retried_upload_that_had_landed_is_recognised_as_our_own_lock(client, gcs_server):
    """A conditional upload is retried after a lost answer; if the first attempt landed, the
    retry meets 412 and must find its own lock there, not report itself as another holder."""
    clock = Clock()
    inject_fault(gcs_server, "objects.insert", 503, lands=True)  # written, answer lost
    held = lock(client, clock).acquire("me pid 1", "abc")
    assert held.generation == int(
        client.bucket("acme-churn-dev-templates").get_blob(LOCK_OBJECT).generation
    )
    assert held.holder == "me pid 1"
    with pytest.raises(LockError):
        lock(client, clock).acquire("someone else")


def test_an_unreadable_lock_object_counts_as_held(client):
    client.bucket("acme-churn-dev-templates").blob(LOCK_OBJECT).upload_from_string(b"{garbage")
    with pytest.raises(LockError, match="held by \\(unreadable lock object\\)"):
        ApplyLock(client, BASE, "dev").acquire("me")


def test_force_unlock_needs_the_current_generation(client):
    held = lock(client, Clock()).acquire("dead apply")
    with pytest.raises(LockError, match="Nothing removed"):
        force_unlock(client, BASE, "dev", held.generation + 1)
    assert "held by dead apply" in force_unlock(client, BASE, "dev", held.generation)
    with pytest.raises(LockError, match="is not locked"):
        force_unlock(client, BASE, "dev", held.generation)


def test_apply_refuses_while_another_apply_holds_the_lock_and_unlock_frees_it(
    tree, templates_dir, fake, no_sleep, capsys, client
):
    held = ApplyLock(client, BASE, "dev").acquire("other@ci pid 9", "f00d")
    args = ["--env", "dev", "--templates", str(templates_dir)]
    assert main(["apply", *args, "--auto-approve"], retry=no_sleep) == 1
    err = capsys.readouterr().err
    assert "Nothing applied: environment 'dev' is locked by another apply: held by other@ci" in err
    assert fake.writes() == 0 and fake.calls["ListJobs"] == 0  # not even planned
    assert main(["unlock", "--env", "dev", "--generation", str(held.generation)]) == 0
    assert "Removed the apply lock of environment 'dev'" in capsys.readouterr().out
    assert main(["apply", *args, "--auto-approve"], retry=no_sleep) == 0
    assert fake.calls["CreateJob"] == 2
    # released at the end
    assert client.bucket("acme-churn-dev-templates").get_blob(LOCK_OBJECT) is None


def _apply_process(schedules: Path, templates_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "schedule.py"),
            "apply",
            "--env",
            "dev",
            "--auto-approve",
            "--schedules",
            str(schedules),
            "--templates",
            str(templates_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_two_concurrent_applies_one_runs_the_other_is_refused(tree, templates_dir, fake):
    # Whichever apply takes the lock first holds it for at least 3 s (a slow ListJobs), far
    # longer than the two processes' start-up times differ.
    fake.latency["ListJobs"] = 3.0
    procs = [_apply_process(tree.root, templates_dir) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 1], results
    refused = next(err for code, _out, err in results if code == 1)
    assert "is locked by another apply" in refused
    assert fake.calls["CreateJob"] == 2 and fake.calls["ListJobs"] == 1


def test_applies_from_two_commits_never_interleave(tree, templates_dir, fake, tmp_path):
    """Commit A and commit B change both jobs' crons; with waiting, they run one after the
    other, so the jobs end up all-A or all-B, never a mix, and the second sees the first's
    result in its own plan."""
    other = tmp_path / "commit-b" / "schedules"
    other.parent.mkdir()
    subprocess.run(["cp", "-r", str(tree.root), str(other)], check=True)
    for root, minute in ((tree.root, "10"), (other, "20")):
        for name in ("churn-training-weekly.yaml", "churn-scoring-daily.yaml"):
            path = root / name
            text = path.read_text()
            text = text.replace('cron: "0 3 * * 1"', f'cron: "{minute} 3 * * 1"')
            text = text.replace('cron: "30 5 * * *"', f'cron: "{minute} 5 * * *"')
            path.write_text(text)
    fake.latency["ListJobs"] = 1.0  # each apply holds the lock for a while
    procs = [
        _apply_process(root, templates_dir, "--lock-timeout", "60") for root in (tree.root, other)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    assert [code for code, _o, _e in results] == [0, 0], results
    minutes = {
        fake.job(j).schedule.split()[0]
        for j in ("dev-churn-training-weekly", "dev-churn-scoring-daily")
    }
    assert len(minutes) == 1, minutes  # all from one commit
    # one apply created both jobs; the other, planning only after it, updated both
    assert fake.calls["CreateJob"] == 2 and fake.calls["UpdateJob"] == 2
    assert fake.calls["ListJobs"] == 2
