"""Fixtures of the operations tests: the scheduling fixtures, a fake Vertex AI, the CLI runner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.vertex import FakePipelineService, fake_vertex
from scheduling.cli import main
from tests.scheduling.conftest import (  # noqa: F401  (fixtures used by these tests)
    fake,
    gcs,
    gcs_server,
    no_sleep,
    scheduler_server,
    templates_dir,
    tree,
)

PARENT = "projects/acme-churn-dev/locations/europe-west4"
WEEKLY = "dev-churn-training-weekly"
DAILY = "dev-churn-scoring-daily"


@pytest.fixture(scope="module")
def vertex_server() -> Iterator[tuple[FakePipelineService, str]]:
    """One fake PipelineService per module."""
    with fake_vertex() as served:
        yield served


@pytest.fixture
def vertex(vertex_server, monkeypatch) -> FakePipelineService:
    """The fake Vertex AI, emptied, with AIPLATFORM_EMULATOR_HOST pointing at it."""
    service, host = vertex_server
    service.reset()
    monkeypatch.setenv("AIPLATFORM_EMULATOR_HOST", host)
    return service


@pytest.fixture
def run(tree, templates_dir, fake, no_sleep, capsys):  # noqa: F811 (fixtures)
    """Run schedule.py in-process; returns (exit code, stdout, stderr)."""

    def run_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--templates", str(templates_dir)], retry=no_sleep)
        out, err = capsys.readouterr()
        return code, out, err

    return run_cli


@pytest.fixture
def applied(run, fake):  # noqa: F811 (fixture)
    """The shipped schedules applied to dev; call counters zeroed."""
    code, _out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0, err
    fake.reset_calls()
    return fake
