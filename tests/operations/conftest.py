"""Fixtures of the operations tests: the scheduling fixtures, a fake Vertex AI, the CLI runner."""

from __future__ import annotations

import pytest

from fakes.vertex import fake_vertex
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
from tests.served import served_fake

PARENT = "projects/acme-churn-dev/locations/europe-west4"
WEEKLY = "dev-churn-training-weekly"
DAILY = "dev-churn-scoring-daily"


#: One fake PipelineService per module; `vertex` is it emptied, AIPLATFORM_EMULATOR_HOST set.
vertex_server, vertex = served_fake("vertex", fake_vertex, env="AIPLATFORM_EMULATOR_HOST")


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
