"""The scripts in the CI files, run as CI runs them, against the fakes: nothing reaches Google.

GitHub Actions: each `run:` block through `bash --noprofile --norc -eo pipefail` (what
`shell: bash` means), with the environment the runner and the step's `env:` would give.
Cloud Build: each step's `bash -ceu` script after Cloud Build's substitution; `/workspace`, which
is the checkout there, is mapped to a temporary directory for the files the steps write.
Cloud Scheduler is the in-process fake (SCHEDULER_EMULATOR_HOST), GCS the emulator
(STORAGE_EMULATOR_HOST), GitHub the fake REST API (GITHUB_API_URL).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import grpc
import pytest
from google.cloud import storage

from ci.plan_comment import MARKER
from fakes.gcs import gcs_emulator
from fakes.scheduler import running_scheduler
from tests.ci.fake_github import running_github
from tests.ci.flows import (
    CLOUDBUILD,
    REPO,
    WORKFLOWS,
    cloudbuild_step,
    load_yaml,
    substitute,
    workflow_step,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
REPO_NAME = "acme/churn"
BUCKETS = {"dev": "acme-churn-dev-pipelines", "prod": "acme-churn-prod-pipelines"}


def run_github_step(step: dict, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run a workflow step's script the way `shell: bash` does; `env` must cover its `env:`."""
    missing = set(step.get("env", {})) - set(env)
    assert not missing, f"test gives no value for the step's env {missing}"
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_cloudbuild_step(
    step: dict, values: dict[str, str], env: dict[str, str], workspace: Path
) -> subprocess.CompletedProcess:
    """Run a Cloud Build step's bash script after substitution, /workspace -> `workspace`."""
    assert step["entrypoint"] == "bash"
    flags, script = step["args"][0], step["args"][1]
    text = substitute(script, values).replace("/workspace", str(workspace))
    return subprocess.run(
        ["bash", flags, text],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def scheduler():
    with running_scheduler() as (fake, host):
        yield fake, host


@pytest.fixture(scope="module")
def gcs():
    with gcs_emulator(buckets=tuple(BUCKETS.values())) as host:
        yield host


def blobs(bucket: str) -> set[str]:
    return {b.name for b in storage.Client(project="test").list_blobs(bucket)}


def job_ids(fake) -> set[str]:
    return {name.rsplit("/", 1)[-1] for name in fake.jobs}


# -- pull request -------------------------------------------------------------------------------


def github_plan_env(tmp_path: Path, host: str, api: str) -> dict[str, str]:
    (tmp_path / "runner").mkdir(exist_ok=True)
    return {
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_REPOSITORY": REPO_NAME,
        "GITHUB_API_URL": api,
        "GITHUB_TOKEN": "test-token",
        "PR_NUMBER": "7",
        "HEAD_SHA": SHA,
        "SCHEDULER_EMULATOR_HOST": host,
    }


def test_github_pull_request_plans_every_environment_into_one_comment(tmp_path, scheduler):
    fake, host = scheduler
    path = WORKFLOWS / "pull-request.yml"
    plan_step = workflow_step(path, "plan", "plan every environment")
    post_step = workflow_step(path, "plan", "post the plan")
    with running_github() as (github, api):
        env = github_plan_env(tmp_path, host, api)
        done = run_github_step(plan_step, env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "plan --env dev: exit 2" in done.stdout  # changes: recorded, not a failure
        assert "plan --env prod: exit 2" in done.stdout
        done = run_github_step(post_step, env, tmp_path)
        assert done.returncode == 0, done.stderr
        (comment,) = github.comments[(REPO_NAME, 7)]
        assert comment["body"].startswith(MARKER)
        assert "### 📝 `dev`: 2 to create; 0 unchanged" in comment["body"]
        assert "### 📝 `prod`: 2 to create; 0 unchanged" in comment["body"]
        assert (tmp_path / "summary.md").read_text() == done.stdout  # also on the run's page

        # dev is applied (a merge), the next push re-plans: the same comment now says so.
        applied = subprocess.run(
            [".venv/bin/python", "schedule.py", "apply", "--env", "dev", "--auto-approve"],
            cwd=REPO,
            env={**os.environ, "SCHEDULER_EMULATOR_HOST": host},
            capture_output=True,
            text=True,
        )
        assert applied.returncode == 0, applied.stderr
        assert run_github_step(plan_step, env, tmp_path).returncode == 0
        assert run_github_step(post_step, env, tmp_path).returncode == 0
        (comment,) = github.comments[(REPO_NAME, 7)]
        assert "### ✅ `dev`: no changes (2 job(s) match the schedule files)" in comment["body"]
    assert fake.writes() == 2  # the plans themselves wrote nothing


def test_github_pull_request_posts_a_failed_plan_and_goes_red(tmp_path, scheduler):
    fake, host = scheduler
    fake.inject("ListJobs", grpc.StatusCode.PERMISSION_DENIED)  # dev is planned first
    path = WORKFLOWS / "pull-request.yml"
    with running_github() as (github, api):
        env = github_plan_env(tmp_path, host, api)
        done = run_github_step(workflow_step(path, "plan", "plan every environment"), env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "plan --env dev: exit 1" in done.stdout
        done = run_github_step(workflow_step(path, "plan", "post the plan"), env, tmp_path)
        assert done.returncode == 1
        assert "the plan failed for: dev" in done.stderr
        (comment,) = github.comments[(REPO_NAME, 7)]
    assert "### ❌ `dev`: the plan failed (exit 1)" in comment["body"]
    assert "PermissionDenied" in comment["body"] or "PERMISSION_DENIED" in comment["body"]
    assert "### 📝 `prod`: 2 to create" in comment["body"]


def test_cloud_build_pull_request_plans_and_comments(tmp_path, scheduler):
    _fake, host = scheduler
    path = CLOUDBUILD / "pull-request.yaml"
    values = {"COMMIT_SHA": SHA, "REPO_FULL_NAME": REPO_NAME, "_PR_NUMBER": "9"}
    with running_github() as (github, api):
        github.add(REPO_NAME, 9, f"{MARKER}\nan earlier plan")
        env = {"SCHEDULER_EMULATOR_HOST": host, "GITHUB_TOKEN": "test-token", "GITHUB_API_URL": api}
        done = run_cloudbuild_step(cloudbuild_step(path, "plan"), values, env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == [
            "dev.err",
            "dev.json",
            "dev.rc",
            "prod.err",
            "prod.json",
            "prod.rc",
        ]
        done = run_cloudbuild_step(cloudbuild_step(path, "comment"), values, env, tmp_path)
        assert done.returncode == 0, done.stderr
        (comment,) = github.comments[(REPO_NAME, 9)]
    assert "an earlier plan" not in comment["body"]
    assert f"`{SHA[:12]}`" in comment["body"]
    assert "### 📝 `prod`: 2 to create; 0 unchanged" in comment["body"]


# -- merge --------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", ["dev", "prod"])
def test_github_deploy_publishes_to_the_environments_bucket_and_applies(
    tmp_path, scheduler, gcs, job
):
    fake, host = scheduler
    path = WORKFLOWS / "deploy.yml"
    job_env = load_yaml(path)["jobs"][job]["env"]
    env = {
        **job_env,
        "GITHUB_SHA": SHA,
        "GITHUB_RUN_ATTEMPT": "1",
        "STORAGE_EMULATOR_HOST": gcs,
        "SCHEDULER_EMULATOR_HOST": host,
    }
    publish = workflow_step(path, job, "publish templates")
    done = run_github_step(publish, env, tmp_path)
    assert done.returncode == 0, done.stderr
    names = blobs(BUCKETS[job])
    assert f"templates/{SHA}/manifest.json" in names
    assert f"templates/{SHA}/templates/churn-training.yaml" in names
    latest = storage.Client(project="test").bucket(BUCKETS[job]).blob("templates/latest.json")
    assert json.loads(latest.download_as_bytes())["version"] == SHA

    done = run_github_step(workflow_step(path, job, f"apply schedules to {job}"), env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert job_ids(fake) == {f"{job}-churn-scoring-daily", f"{job}-churn-training-weekly"}

    # The same commit again: refused on a first attempt, overwritten (same bytes) on a re-run.
    again = run_github_step(publish, env, tmp_path)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    rerun = run_github_step(publish, {**env, "GITHUB_RUN_ATTEMPT": "2"}, tmp_path)
    assert rerun.returncode == 0, rerun.stderr


def test_cloud_build_deploy_publishes_and_applies_the_environment_it_is_given(
    tmp_path, scheduler, gcs
):
    fake, host = scheduler
    path = CLOUDBUILD / "deploy.yaml"
    version = "fedcba9876543210fedcba9876543210fedcba98"
    values = {"_ENV": "prod", "COMMIT_SHA": version, "_PUBLISH_FLAGS": ""}
    env = {"STORAGE_EMULATOR_HOST": gcs, "SCHEDULER_EMULATOR_HOST": host}
    done = run_cloudbuild_step(cloudbuild_step(path, "publish"), values, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"templates/{version}/manifest.json" in blobs(BUCKETS["prod"])
    assert not any(version in name for name in blobs(BUCKETS["dev"]))
    done = run_cloudbuild_step(cloudbuild_step(path, "apply"), values, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert job_ids(fake) == {"prod-churn-scoring-daily", "prod-churn-training-weekly"}
    forced = run_cloudbuild_step(
        cloudbuild_step(path, "publish"), {**values, "_PUBLISH_FLAGS": "--force"}, env, tmp_path
    )
    assert forced.returncode == 0, forced.stderr
