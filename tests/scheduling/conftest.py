"""Fixtures for the scheduling tests: compiled fixture templates, a schedules tree, the fake."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from fakes.scheduler import running_scheduler
from scheduling.api import RetryPolicy
from tests.served import served_emulator, served_fake

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


#: One fake Cloud Scheduler per test module; `fake` is it emptied, with SCHEDULER_EMULATOR_HOST
#: naming it (and the emptied GCS emulator that holds the apply locks).
scheduler_server, fake = served_fake(
    "fake", running_scheduler, server="scheduler_server", env="SCHEDULER_EMULATOR_HOST",
    needs=("gcs",),
)  # fmt: skip
#: One GCS emulator per test module (generation preconditions kept, as in the service) with the
#: shipped environments' template buckets.
gcs_server, gcs = served_emulator("gcs", LOCK_BUCKETS)


@pytest.fixture
def no_sleep() -> RetryPolicy:
    """The production retry policy without the waiting."""
    return RetryPolicy(sleep=lambda _seconds: None)
