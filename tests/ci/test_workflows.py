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
        assert writes == ({"pull-requests"} if name == "plan" else set()), f"{path.name}: {name}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_google_auth_is_workload_identity_from_repository_variables(path):
    steps = [s for job in jobs(path).values() for s in job["steps"]]
    auth = [s for s in steps if s.get("uses", "").startswith(AUTH)]
    assert auth, f"{path.name} never authenticates"
    for step in auth:
        inputs = step["with"]
        assert set(inputs) == {"workload_identity_provider", "service_account"}
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
    plan = jobs(PR)["plan"]
    assert plan["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    scripts = " ".join(s.get("run", "") for s in plan["steps"])
    assert "--detailed-exitcode" in scripts
    assert "ci.plan_comment" in scripts
    assert "--post" in scripts


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


def test_deploy_publishes_to_the_environments_template_base_under_the_commit():
    scripts = [s for job, s in workflow_scripts(DEPLOY) if job == "dev"]
    publish = next(s for s in scripts if "--publish" in s)
    assert 'ci.environment "$DEPLOY_ENV" template_base' in publish
    assert '--version "$GITHUB_SHA"' in publish
    assert "gs://" not in publish  # the bucket comes from schedules/environments/<env>.yaml
    apply = next(s for s in scripts if "schedule.py apply" in s)
    assert apply.strip() == '.venv/bin/python schedule.py apply --env "$DEPLOY_ENV" --auto-approve'
