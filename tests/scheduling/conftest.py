"""Fixtures for the scheduling tests: compiled fixture templates, a schedules tree, the fake."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.gcs import clear_faults, gcs_emulator
from fakes.scheduler import FakeScheduler, running_scheduler
from scheduling.api import RetryPolicy

REPO = Path(__file__).resolve().parents[2]
#: The template_base buckets of the shipped environments: where their apply locks live.
LOCK_BUCKETS = ("acme-churn-dev-templates", "acme-churn-prod-templates")


@pytest.fixture(scope="session")
def templates_dir() -> Path:
    """The real compiled templates (build/vertex, kept current by `compile.py --check`)."""
    return REPO / "build" / "vertex"


class Tree:
    """A schedules/ directory in tmp_path that tests write YAML files into."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "environments").mkdir(parents=True, exist_ok=True)

    def write(self, name: str, text: str) -> Path:
        """Write schedules/<name> (dedented)."""
        path = self.root / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def remove(self, name: str) -> None:
        """Delete schedules/<name>."""
        (self.root / name).unlink()

    def edit(self, name: str, old: str, new: str) -> None:
        """Replace `old` by `new` in schedules/<name> (which must contain it)."""
        path = self.root / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new))


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Tree:
    """A copy of the shipped schedules/ tree in tmp_path, which is the working directory."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "schedules"
    shutil.copytree(REPO / "schedules", root)
    return Tree(root)


@pytest.fixture
def empty_tree(tmp_path, monkeypatch) -> Tree:
    """A schedules/ tree with the shipped environments and no schedules (cwd: tmp_path)."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "schedules"
    shutil.copytree(REPO / "schedules" / "environments", root / "environments")
    return Tree(root)


@pytest.fixture(scope="module")
def scheduler_server() -> Iterator[tuple[FakeScheduler, str]]:
    """One fake Cloud Scheduler per test module."""
    with running_scheduler() as served:
        yield served


@pytest.fixture(scope="module")
def gcs_server() -> Iterator[str]:
    """One GCS emulator per test module (generation preconditions enforced, as in the service),
    holding the shipped environments' template buckets."""
    with gcs_emulator(buckets=LOCK_BUCKETS) as host:
        yield host


@pytest.fixture
def gcs(gcs_server, monkeypatch) -> str:
    """The emulator with no objects left from earlier tests; STORAGE_EMULATOR_HOST set."""
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    clear_faults(gcs_server)
    client = storage.Client(project="test-project")
    for bucket in LOCK_BUCKETS:
        for blob in client.list_blobs(bucket):
            blob.delete()
    return gcs_server


@pytest.fixture
def fake(scheduler_server, gcs, monkeypatch) -> FakeScheduler:
    """The fake, emptied, with SCHEDULER_EMULATOR_HOST pointing at it (and the GCS emulator
    that holds the apply locks)."""
    fake, host = scheduler_server
    with fake.lock:
        fake.jobs.clear()
        fake.faults.clear()
        fake.deliveries.clear()
        fake.calls.clear()
        fake.latency.clear()
    monkeypatch.setenv("SCHEDULER_EMULATOR_HOST", host)
    return fake


@pytest.fixture
def no_sleep() -> RetryPolicy:
    """The production retry policy without the waiting."""
    return RetryPolicy(sleep=lambda _seconds: None)
