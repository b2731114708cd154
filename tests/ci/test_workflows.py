"""GitHub Actions workflows as data: triggers, least permissions, WIF auth, order, concurrency."""

from __future__ import annotations

import re

import pytest

from tests.ci.flows import WORKFLOWS, load_yaml, workflow_files, workflow_scripts

PR = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
AUTH = "google-github-actions/auth@"


def jobs(path) -> dict:
    return load_yaml(path)["jobs"]


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def triggers(path) -> dict:
    data = load_yaml(path)
    return data.get("on", data.get(True))  # PyYAML reads the bare key `on` as True


def test_pull_request_workflow_runs_on_pull_requests_to_main():
    assert triggers(PR) == {"pull_request": {"branches": ["main"]}}


def test_deploy_workflow_runs_on_push_to_main_only():
    assert triggers(DEPLOY) == {"push": {"branches": ["main"]}}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_no_permissions_by_default_and_each_job_declares_its_own(path):
    assert load_yaml(path)["permissions"] == {}
    for name, job in jobs(path).items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
        assert job["permissions"].get("contents") == "read", f"{path.name}: {name}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_id_token_only_where_google_auth_runs_and_comment_rights_only_for_the_plan(path):
    for name, job in jobs(path).items():
        perms = job["permissions"]
        authenticates = any(u.startswith(AUTH) for u in uses(job))
        assert (perms.get("id-token") == "write") == authenticates, f"{path.name}: {name}"
        writes = {k for k, v in perms.items() if v == "write"} - {"id-token"}
        assert writes == ({"pull-requests"} if name == "comment" else set()), f"{path.name}: {name}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_google_auth_is_workload_identity_from_repository_variables(path):
    steps = [s for job in jobs(path).values() for s in job["steps"]]
    auth = [s for s in steps if s.get("uses", "").startswith(AUTH)]
    assert auth, f"{path.name} never authenticates"
    for step in auth:
        inputs = step["with"]
        assert {"workload_identity_provider", "service_account"} <= set(inputs)
        # An access token only where docker logs in to Artifact Registry.
        assert set(inputs) - {"workload_identity_provider", "service_account"} <= {"token_format"}
        if "token_format" in inputs:
            assert path == DEPLOY and inputs["token_format"] == "access_token"
        assert inputs["workload_identity_provider"] == "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}"
        assert re.fullmatch(
            r"\$\{\{ vars\.GCP_[A-Z_]+_SERVICE_ACCOUNT(_[A-Z]+)? \}\}", inputs["service_account"]
        )


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version_or_a_commit(path):
    for job in jobs(path).values():
        for ref in uses(job):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", ref), ref


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_run_scripts_take_event_data_from_env_not_from_expressions(path):
    """`${{ }}` inside a script is pasted into the shell before it runs (injection risk)."""
    for job, script in workflow_scripts(path):
        assert "${{" not in script, f"{path.name}: job {job} interpolates into its script"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_checkout_keeps_no_credentials(path):
    for job in jobs(path).values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_the_test_job_has_python_311_and_java_17(path):
    job = jobs(path)["test"]
    steps = {s.get("uses", "").split("@")[0]: s.get("with", {}) for s in job["steps"]}
    assert steps["actions/setup-python"]["python-version"] == "3.11"
    assert steps["actions/setup-java"] == {"distribution": "temurin", "java-version": "17"}
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == [
        "make test",
        ".venv/bin/python compile.py --check",
        ".venv/bin/python schedule.py validate",
    ]


def test_pull_request_plan_is_one_comment_and_skips_forks():
    flow = jobs(PR)
    fork_check = "github.event.pull_request.head.repo.full_name == github.repository"
    assert flow["plan"]["if"] == fork_check
    assert flow["comment"]["needs"] == "plan"  # skipped with it for forks
    plan = " ".join(s.get("run", "") for s in flow["plan"]["steps"])
    assert "--detailed-exitcode" in plan
    comment = " ".join(s.get("run", "") for s in flow["comment"]["steps"])
    assert "ci.plan_comment" in comment and "--post" in comment


def test_pull_request_code_never_runs_where_the_write_token_is():
    """Issue 10 A4b: the PR's code runs in `plan` (no write token); `comment` holds the token
    and runs the base branch's standard-library-only script with a bare Python."""
    flow = jobs(PR)
    assert "pull-requests" not in flow["plan"]["permissions"]
    assert "id-token" not in flow["comment"]["permissions"]
    steps = flow["comment"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    runs = " ".join(s.get("run", "") for s in steps)
    for forbidden in (".venv", "make ", "pip ", "uv ", "schedule.py", "compile.py"):
        assert forbidden not in runs, forbidden
    assert '--author "github-actions[bot]"' in runs  # GITHUB_TOKEN cannot call GET /user
    uploads = [
        s for s in flow["plan"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    downloads = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact@")]
    assert uploads[0]["with"]["name"] == downloads[0]["with"]["name"]


def test_a_newer_push_cancels_the_pull_request_run():
    concurrency = load_yaml(PR)["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is True


def test_merge_flow_is_test_then_dev_then_approved_prod():
    flow = jobs(DEPLOY)
    assert set(flow) == {"test", "dev", "prod"}
    assert flow["dev"]["needs"] == "test"
    assert flow["prod"]["needs"] == "dev"
    assert flow["prod"]["environment"] == "production"
    assert "environment" not in flow["dev"]
    assert flow["dev"]["env"] == {"DEPLOY_ENV": "dev"}
    assert flow["prod"]["env"] == {"DEPLOY_ENV": "prod"}


def test_applies_to_one_environment_never_run_at_once():
    flow = jobs(DEPLOY)
    groups = set()
    for name in ("dev", "prod"):
        concurrency = flow[name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, name  # never kill an apply halfway
        groups.add(concurrency["group"])
    assert groups == {"deploy-dev", "deploy-prod"}


def test_dev_and_prod_run_the_same_steps_with_their_own_service_account():
    flow = jobs(DEPLOY)
    dev, prod = flow["dev"]["steps"], flow["prod"]["steps"]
    assert [s.get("run") for s in dev] == [s.get("run") for s in prod]
    accounts = {
        name: next(
            s["with"]["service_account"]
            for s in flow[name]["steps"]
            if "with" in s and "service_account" in s["with"]
        )
        for name in ("dev", "prod")
    }
    assert accounts == {
        "dev": "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT_DEV }}",
        "prod": "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT_PROD }}",
    }


def test_deploy_builds_the_image_then_publishes_for_the_environment_pinned_to_it():
    scripts = [s for job, s in workflow_scripts(DEPLOY) if job == "dev"]
    image = next(s for s in scripts if "docker build" in s)
    assert "--file images/components/Dockerfile" in image
    assert '-m ci.components_image tag --env "$DEPLOY_ENV"' in image
    assert "-m ci.components_image pinned" in image
    assert 'COMPONENTS_IMAGE=$pinned" >> "$GITHUB_ENV"' in image
    publish = next(s for s in scripts if "--publish" in s)
    assert scripts.index(image) < scripts.index(publish)
    assert '--publish --env "$DEPLOY_ENV" --version "$GITHUB_SHA"' in publish
    assert '--components-image "$COMPONENTS_IMAGE"' in publish
    assert "gs://" not in publish  # the bucket comes from schedules/environments/<env>.yaml
    apply = next(s for s in scripts if "schedule.py apply" in s)
    assert apply.strip() == '.venv/bin/python schedule.py apply --env "$DEPLOY_ENV" --auto-approve'


def test_only_the_production_environment_job_uses_the_prod_account():
    """Issue 10 A4a: the prod account's Workload Identity binding trusts the subject
    `repo:OWNER/REPO:environment:production` only (ci/README.md), so the job must be in it."""
    for path in workflow_files():
        for name, job in jobs(path).items():
            text = str(job)
            if "GCP_DEPLOY_SERVICE_ACCOUNT_PROD" in text:
                assert (path, name, job.get("environment")) == (DEPLOY, "prod", "production")
