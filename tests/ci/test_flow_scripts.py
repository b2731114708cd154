"""The scripts in the CI files, run as CI runs them, against the fakes: nothing reaches Google.

GitHub Actions: each `run:` block through `bash --noprofile --norc -eo pipefail` (what
`shell: bash` means), with the environment the runner and the step's `env:` would give.
Cloud Build: each step's `bash -ceu` script after Cloud Build's substitution; `/workspace`, which
is the checkout there, is mapped to a temporary directory for the files the steps write.
Cloud Scheduler is the in-process fake (SCHEDULER_EMULATOR_HOST), GCS the emulator
(STORAGE_EMULATOR_HOST), Cloud Build the fake REST API (CLOUD_BUILD_EMULATOR_HOST), GitHub the
fake REST API (GITHUB_API_URL). There is no Docker engine here: `docker` is a stand-in script on
PATH that records its arguments and answers `inspect` with a digest, so the image steps' wiring
(name from the environment file, push, digest into the publish step) runs for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.cloud import storage

from ci.plan_comment import MARKER
from fakes.cloudbuild import running_cloudbuild
from fakes.gcs import gcs_emulator
from fakes.github import ACTIONS_BOT, BOT, running_github
from fakes.scheduler import running_scheduler
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
BUCKETS = {"dev": "acme-churn-dev-templates", "prod": "acme-churn-prod-templates"}


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
    """Run a Cloud Build step's bash script after substitution, /workspace -> `workspace`, with
    the step's `env:` entries (substituted) in its environment, as Cloud Build sets them."""
    assert step["entrypoint"] == "bash"
    flags, script = step["args"][0], step["args"][1]
    text = substitute(script, values).replace("/workspace", str(workspace))
    step_env = dict(substitute(entry, values).split("=", 1) for entry in step.get("env", []))
    return subprocess.run(
        ["bash", flags, text],
        cwd=REPO,
        env={**os.environ, **env, **step_env},
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


DIGEST = "sha256:" + "7" * 64
FAKE_DOCKER = f"""#!/bin/bash
# Stand-in for the docker CLI: records each call; `inspect` answers the pushed image's digest.
echo "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in
  login) [ -n "$(cat)" ] || {{ echo "no password on stdin" >&2; exit 1; }} ;;
  inspect) image="${{!#}}"; printf '["%s@{DIGEST}"]\n' "${{image%:*}}" ;;
esac
"""


def tool_path(tmp_path: Path) -> dict[str, str]:
    """PATH with the docker stand-in and a bare `python` (the base interpreter: no venv
    packages, as setup-python or the python image gives a step) in front."""
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    docker = tools / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    python = tools / "python"
    if not python.exists():
        python.symlink_to(getattr(sys, "_base_executable", sys.executable))
    return {
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOCKER_LOG": str(tmp_path / "docker.log"),
    }


# -- pull request -------------------------------------------------------------------------------


def github_plan_env(tmp_path: Path, host: str, api: str) -> dict[str, str]:
    (tmp_path / "runner").mkdir(exist_ok=True)
    return {
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_REPOSITORY": REPO_NAME,
        "GITHUB_API_URL": api,
        "GITHUB_TOKEN": "actions-token",  # an app token, like GitHub Actions' GITHUB_TOKEN
        "PR_NUMBER": "7",
        "HEAD_SHA": SHA,
        "SCHEDULER_EMULATOR_HOST": host,
        **tool_path(tmp_path),
    }


def test_github_pull_request_plans_every_environment_into_one_comment(tmp_path, scheduler, gcs):
    fake, host = scheduler
    path = WORKFLOWS / "pull-request.yml"
    plan_step = workflow_step(path, "plan", "plan every environment")
    post_step = workflow_step(path, "comment", "post the plan")
    with running_github() as (github, api):
        env = github_plan_env(tmp_path, host, api)
        planted = github.add(REPO_NAME, 7, f"{MARKER}\nplanted by someone else")
        done = run_github_step(plan_step, env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "plan --env dev: exit 2" in done.stdout  # changes: recorded, not a failure
        assert "plan --env prod: exit 2" in done.stdout
        done = run_github_step(post_step, env, tmp_path)
        assert done.returncode == 0, done.stderr
        planted_now, comment = github.comments[(REPO_NAME, 7)]
        assert planted_now == planted and planted["body"].endswith("planted by someone else")
        assert comment["user"]["login"] == ACTIONS_BOT
        assert comment["body"].startswith(MARKER)
        assert "### 📝 `dev`: 2 to create; 0 unchanged" in comment["body"]
        assert "### 📝 `prod`: 2 to create; 0 unchanged" in comment["body"]
        assert (tmp_path / "summary.md").read_text() == done.stdout  # also on the run's page

        # dev is applied (a merge), the next push re-plans: the same comment now says so.
        applied = subprocess.run(
            [".venv/bin/python", "schedule.py", "apply", "--env", "dev", "--auto-approve"],
            cwd=REPO,
            env={**os.environ, "SCHEDULER_EMULATOR_HOST": host, "STORAGE_EMULATOR_HOST": gcs},
            capture_output=True,
            text=True,
        )
        assert applied.returncode == 0, applied.stderr
        assert run_github_step(plan_step, env, tmp_path).returncode == 0
        assert run_github_step(post_step, env, tmp_path).returncode == 0
        _planted, comment = github.comments[(REPO_NAME, 7)]
        assert "### ✅ `dev`: no changes (2 job(s) match the schedule files)" in comment["body"]
    assert fake.writes() == 2  # the plans themselves wrote nothing


def test_github_pull_request_posts_a_failed_plan_and_goes_red(tmp_path, scheduler):
    fake, host = scheduler
    fake.inject_fault("ListJobs", grpc.StatusCode.PERMISSION_DENIED)  # dev is planned first
    path = WORKFLOWS / "pull-request.yml"
    with running_github() as (github, api):
        env = github_plan_env(tmp_path, host, api)
        done = run_github_step(workflow_step(path, "plan", "plan every environment"), env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "plan --env dev: exit 1" in done.stdout
        done = run_github_step(workflow_step(path, "comment", "post the plan"), env, tmp_path)
        assert done.returncode == 1
        assert "the plan failed for: dev" in done.stderr
        (comment,) = github.comments[(REPO_NAME, 7)]
    assert "### ❌ `dev`: the plan failed (exit 1)" in comment["body"]
    assert "PermissionDenied" in comment["body"] or "PERMISSION_DENIED" in comment["body"]
    assert "### 📝 `prod`: 2 to create" in comment["body"]


def comment_values(pr: str = "9", commit: str = SHA, repo: str = REPO_NAME) -> dict[str, str]:
    """What the Pub/Sub trigger's payload bindings give the comment build."""
    return {
        "_PR_NUMBER": pr,
        "_PR_COMMIT": commit,
        "_PR_REPO": repo,
        "_PR_BUILD_ID": "0b9f3c1e-2a4d-4c6b-9e8f-1a2b3c4d5e6f",
        "_PLAN_BUCKET": "acme-churn-ci-plans",
        "PROJECT_ID": "acme-churn-ci",
        "_GITHUB_TOKEN_SECRET": "github-pr-comment-token",
    }


def test_cloud_build_pull_request_plans_and_the_trusted_build_comments(tmp_path, scheduler):
    _fake, host = scheduler
    plan = cloudbuild_step(CLOUDBUILD / "pull-request.yaml", "plan")
    comment = cloudbuild_step(CLOUDBUILD / "plan-comment.yaml", "comment")
    with running_github() as (github, api):
        ours = github.add(REPO_NAME, 9, f"{MARKER}\nan earlier plan", author=BOT)
        planted = github.add(REPO_NAME, 9, f"{MARKER}\nplanted", author="mallory")
        # The untrusted build: no token in its environment at all.
        done = run_cloudbuild_step(plan, {}, {"SCHEDULER_EMULATOR_HOST": host}, tmp_path)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == [
            "dev.err",
            "dev.json",
            "dev.rc",
            "prod.err",
            "prod.json",
            "prod.rc",
        ]
        # The trusted build (its fetch step copied the artifacts into /workspace/plans).
        env = {"GITHUB_TOKEN": "test-token", "GITHUB_API_URL": api, **tool_path(tmp_path)}
        done = run_cloudbuild_step(comment, comment_values(), env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert github.find(planted["id"])["body"].endswith("planted")
        body = github.find(ours["id"])["body"]
        assert len(github.comments[(REPO_NAME, 9)]) == 2
    assert "an earlier plan" not in body
    assert f"`{SHA[:12]}`" in body
    assert "### 📝 `prod`: 2 to create; 0 unchanged" in body


@pytest.mark.parametrize(
    ("bucket", "code"),
    [("", 2), ("Not A Bucket", 2), ("x; touch PWNED", 2), ("acme-churn-dev-plans", 0)],
)
def test_both_pull_request_builds_stop_without_the_plan_bucket_the_trigger_passes(
    tmp_path, bucket, code
):
    guard = cloudbuild_step(CLOUDBUILD / "pull-request.yaml", "plan-bucket-given")
    done = run_cloudbuild_step(guard, {"_PLAN_BUCKET": bucket}, {}, tmp_path)
    assert done.returncode == code, done.stderr
    fetch = cloudbuild_step(CLOUDBUILD / "plan-comment.yaml", "fetch-plans")
    values = {**comment_values(), "_PLAN_BUCKET": bucket}
    if code:
        done = run_cloudbuild_step(fetch, values, tool_path(tmp_path), tmp_path)
        assert done.returncode == 2 and "_PLAN_BUCKET" in done.stderr
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "values",
    [
        comment_values(pr="9; touch PWNED"),
        comment_values(pr="$(touch PWNED)"),
        comment_values(commit="main"),
        comment_values(repo="acme/churn --api-url http://evil"),
    ],
)
def test_the_comment_build_refuses_bad_substitutions_before_posting(tmp_path, values):
    (tmp_path / "plans").mkdir()
    comment = cloudbuild_step(CLOUDBUILD / "plan-comment.yaml", "comment")
    with running_github() as (github, api):
        env = {"GITHUB_TOKEN": "test-token", "GITHUB_API_URL": api, **tool_path(tmp_path)}
        done = run_cloudbuild_step(comment, values, env, tmp_path)
        assert done.returncode == 2
        assert "error: bad pull request" in done.stderr
        assert github.requests == []
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()


# -- merge --------------------------------------------------------------------------------------


def published_text(bucket: str, version: str) -> str:
    """Every published object of `version` as text, joined (to look for the image digest)."""
    client = storage.Client(project="test")
    return "\n".join(
        blob.download_as_bytes().decode(errors="replace")
        for blob in client.list_blobs(bucket, prefix=f"templates/{version}/")
        if blob.name.endswith((".yaml", ".json"))
    )


@pytest.mark.parametrize("job", ["dev", "prod"])
def test_github_deploy_builds_the_image_publishes_pinned_to_it_and_applies(
    tmp_path, scheduler, gcs, job
):
    fake, host = scheduler
    path = WORKFLOWS / "deploy.yml"
    job_env = load_yaml(path)["jobs"][job]["env"]
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    env = {
        **job_env,
        "GITHUB_SHA": SHA,
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ENV": str(github_env),
        "ACCESS_TOKEN": "ya29.test",
        "STORAGE_EMULATOR_HOST": gcs,
        "SCHEDULER_EMULATOR_HOST": host,
        **tool_path(tmp_path),
    }
    image_step = workflow_step(path, job, "build and push the components image")
    done = run_github_step(image_step, env, tmp_path)
    assert done.returncode == 0, done.stderr
    project = f"acme-churn-{job}"
    repository = f"europe-west4-docker.pkg.dev/{project}/churn/components"
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["login", "build", "push", "inspect"]
    assert calls[0].endswith("https://europe-west4-docker.pkg.dev")
    assert f"--tag {repository}:{SHA} ." in calls[1]
    assert github_env.read_text() == f"COMPONENTS_IMAGE={repository}@{DIGEST}\n"
    env["COMPONENTS_IMAGE"] = f"{repository}@{DIGEST}"  # what GITHUB_ENV gives later steps

    publish = workflow_step(path, job, "publish templates")
    done = run_github_step(publish, env, tmp_path)
    assert done.returncode == 0, done.stderr
    names = blobs(BUCKETS[job])
    assert f"templates/{SHA}/manifest.json" in names
    assert f"{repository}@{DIGEST}" in published_text(BUCKETS[job], SHA)
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


def run_deploy_build(tmp_path, values, env, step_ids) -> subprocess.CompletedProcess:
    """Run the deploy build's steps in order, stopping at the first failure."""
    done = None
    for step_id in step_ids:
        done = run_cloudbuild_step(
            cloudbuild_step(CLOUDBUILD / "deploy.yaml", step_id), values, env, tmp_path
        )
        if done.returncode != 0:
            return done
    return done


def test_cloud_build_deploy_builds_waits_publishes_and_applies_the_environment_it_is_given(
    tmp_path, scheduler, gcs
):
    fake, host = scheduler
    version = "fedcba9876543210fedcba9876543210fedcba98"
    build_id = "5d6c2b1a-0000-4000-8000-000000000001"
    values = {
        "_ENV": "prod",
        "COMMIT_SHA": version,
        "_PUBLISH_FLAGS": "",
        "_AFTER_PROJECT": "acme-churn-dev",
        "PROJECT_ID": "acme-churn-prod",
        "LOCATION": "europe-west4",
        "BUILD_ID": build_id,
    }
    with running_cloudbuild() as (cloudbuild, cb_host):
        dev_parent = "projects/acme-churn-dev/locations/europe-west4"
        prod_parent = "projects/acme-churn-prod/locations/europe-west4"
        commit_tag = f"churn-commit-{version}"
        cloudbuild.add(dev_parent, "dev-build", "SUCCESS", "2026-11-27T10:00:00Z", [commit_tag])
        cloudbuild.add(
            prod_parent, build_id, "WORKING", "2026-11-27T11:00:00Z", ["churn-deploy-prod"]
        )
        env = {
            "STORAGE_EMULATOR_HOST": gcs,
            "SCHEDULER_EMULATOR_HOST": host,
            "CLOUD_BUILD_EMULATOR_HOST": cb_host,
            **tool_path(tmp_path),
        }
        steps = [
            "after-earlier-environment",
            "components-image",
            "build-push-image",
            "wait-for-older-builds",
            "publish",
            "apply",
        ]
        done = run_deploy_build(tmp_path, values, env, steps)
        assert done.returncode == 0, done.stderr
        # Without a successful dev build of the commit, prod stops before publishing.
        cloudbuild.set_status("dev-build", "FAILURE")
        blocked = run_deploy_build(tmp_path, values, env, steps[:1])
        assert blocked.returncode == 1
        assert f"no successful '{commit_tag}' build in acme-churn-dev" in blocked.stderr
    repository = "europe-west4-docker.pkg.dev/acme-churn-prod/churn/components"
    assert f"--tag {repository}:{version} ." in (tmp_path / "docker.log").read_text()
    assert f"templates/{version}/manifest.json" in blobs(BUCKETS["prod"])
    assert f"{repository}@{DIGEST}" in published_text(BUCKETS["prod"], version)
    assert not any(version in name for name in blobs(BUCKETS["dev"]))
    assert job_ids(fake) == {"prod-churn-scoring-daily", "prod-churn-training-weekly"}
    forced = run_cloudbuild_step(
        cloudbuild_step(CLOUDBUILD / "deploy.yaml", "publish"),
        {**values, "_PUBLISH_FLAGS": "--force"},
        env,
        tmp_path,
    )
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize(
    "flags", ["--force; touch PWNED", "$(touch PWNED)", "--registry https://evil", "--force -x"]
)
def test_cloud_build_publish_flags_are_an_allowlist_never_shell_code(tmp_path, gcs, flags):
    """Issue 10 A4c: _PUBLISH_FLAGS used to be pasted unquoted into bash."""
    (tmp_path / "components-image.digests.json").write_text(
        json.dumps([f"europe-west4-docker.pkg.dev/acme-churn-dev/churn/components@{DIGEST}"])
    )
    values = {"_ENV": "dev", "COMMIT_SHA": SHA[::-1], "_PUBLISH_FLAGS": flags}
    step = cloudbuild_step(CLOUDBUILD / "deploy.yaml", "publish")
    done = run_cloudbuild_step(step, values, {"STORAGE_EMULATOR_HOST": gcs}, tmp_path)
    assert done.returncode == 2
    assert "_PUBLISH_FLAGS:" in done.stderr and "is not allowed (allowed: --force)" in done.stderr
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()
    assert not any(SHA[::-1] in name for name in blobs(BUCKETS["dev"]))
