"""Cloud Build configs: parsed, every step checked (image, entrypoint, substitutions, scripts)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.ci.flows import (
    CLOUDBUILD,
    CLOUDBUILD_BUILTINS,
    REPO,
    cloudbuild_files,
    cloudbuild_script,
    cloudbuild_step,
    commands_in,
    load_yaml,
    substitute,
    substitutions_used,
)

PR = CLOUDBUILD / "pull-request.yaml"
COMMENT = CLOUDBUILD / "plan-comment.yaml"
DEPLOY = CLOUDBUILD / "deploy.yaml"

# The images the steps may use: Python 3.11 on Debian bookworm (openjdk-17 is in its archive),
# the Google Cloud CLI (Cloud Storage downloads), and Cloud Build's docker builder.
ALLOWED_IMAGES = {
    "python:3.11-slim-bookworm",
    "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim",
    "gcr.io/cloud-builders/docker:24.0.9",
}
# Fields of the Build resource (cloudbuild.googleapis.com v1) and of its BuildStep.
BUILD_FIELDS = {
    "steps",
    "timeout",
    "queueTtl",
    "logsBucket",
    "options",
    "substitutions",
    "tags",
    "secrets",
    "availableSecrets",
    "images",
    "artifacts",
    "serviceAccount",
}
STEP_FIELDS = {
    "name",
    "args",
    "env",
    "dir",
    "id",
    "waitFor",
    "entrypoint",
    "secretEnv",
    "volumes",
    "timeout",
    "script",
    "allowFailure",
    "allowExitCodes",
    "automapSubstitutions",
}
CONFIGS = cloudbuild_files()


def strings(value: Any) -> list[str]:
    """Every string inside a parsed YAML value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_the_three_flows_exist():
    assert {p.name for p in CONFIGS} == {"pull-request.yaml", "plan-comment.yaml", "deploy.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_only_build_fields_at_the_top_and_step_fields_in_steps(path):
    config = load_yaml(path)
    assert set(config) <= BUILD_FIELDS, set(config) - BUILD_FIELDS
    assert config["steps"], "no steps"
    for i, step in enumerate(config["steps"]):
        assert set(step) <= STEP_FIELDS, f"{path.name} step {i}: {set(step) - STEP_FIELDS}"
    assert re.fullmatch(r"\d+s", config["timeout"])


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_step_has_an_allowed_tagged_image_an_entrypoint_and_a_unique_id(path):
    steps = load_yaml(path)["steps"]
    for step in steps:
        where = f"{path.name} step {step.get('id')}"
        image = step["name"]
        assert image in ALLOWED_IMAGES, f"{where}: image {image} not in the allowed list"
        tag = image.rsplit("/", 1)[-1]
        assert ":" in tag or "@sha256:" in image, f"{where}: {image} has no tag"
        assert not image.endswith(":latest"), f"{where}: {image} floats"
        assert step.get("entrypoint") or step.get("args"), f"{where}: nothing to run"
    ids = [step["id"] for step in steps]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_substitutions_used_are_declared_or_built_in_and_declared_ones_are_used(path):
    config = load_yaml(path)
    declared = set(config.get("substitutions", {}))
    assert all(re.fullmatch(r"_[A-Z0-9_]+", name) for name in declared), declared
    text = [s for key, value in config.items() if key != "substitutions" for s in strings(value)]
    used = set().union(*(substitutions_used(s) for s in text))
    assert used - declared - CLOUDBUILD_BUILTINS == set()
    assert declared - used == set()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_secret_env_comes_from_available_secrets(path):
    config = load_yaml(path)
    available = {s["env"] for s in config.get("availableSecrets", {}).get("secretManager", [])}
    wanted = {name for step in config["steps"] for name in step.get("secretEnv", [])}
    assert wanted <= available
    assert available <= wanted  # a declared secret nobody reads is a mistake


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_logs_go_to_cloud_logging_as_user_specified_service_accounts_require(path):
    assert load_yaml(path)["options"]["logging"] == "CLOUD_LOGGING_ONLY"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_step_script_is_valid_bash_after_substitution(path):
    for step in load_yaml(path)["steps"]:
        script = cloudbuild_script(step)
        values = {name: f"x{name.lower()}" for name in substitutions_used(script)}
        done = subprocess.run(
            ["bash", "-n"], input=substitute(script, values), capture_output=True, text=True
        )
        assert done.returncode == 0, f"{path.name} step {step['id']}: {done.stderr}"


def commands(path) -> list[str]:
    found = []
    for step in load_yaml(path)["steps"]:
        script = cloudbuild_script(step)
        values = {name: f"${name}" for name in substitutions_used(script)}
        found += [c.text() for c in commands_in(substitute(script, values), step["id"])]
    return found


def test_pull_request_build_runs_the_readme_commands_in_order():
    assert commands(PR) == [
        "make test",
        "compile.py --check",
        "schedule.py validate",
        "schedule.py plan --env $env --json --detailed-exitcode",
    ]
    assert commands(COMMENT) == [
        "ci.plan_comment --dir /workspace/plans --commit $PR_COMMIT --post "
        "--repo $PR_REPO --pr $PR_NUMBER",
    ]


def test_deploy_build_builds_the_image_publishes_pinned_to_it_and_applies():
    assert commands(DEPLOY) == [
        "make test",
        "make install",
        "compile.py --check",
        "schedule.py validate --env $ENV_NAME",
        "ci.build_queue require-success --project $AFTER_PROJECT --location $REGION "
        "--tag churn-commit-$COMMIT",
        "ci.components_image tag --env $ENV_NAME --version $COMMIT",
        "ci.build_queue wait-older --project $PROJECT --location $REGION --build $BUILD "
        "--tag churn-deploy-$ENV_NAME",
        "ci.components_image pinned --env $ENV_NAME --digests "
        "/workspace/components-image.digests.json",
        "compile.py --publish --env $ENV_NAME --version $COMMIT --components-image $image "
        "${flags[@]}",
        "schedule.py apply --env $ENV_NAME --auto-approve",
    ]
    ids = [step["id"] for step in load_yaml(DEPLOY)["steps"]]
    assert ids.index("build-push-image") < ids.index("publish")
    build = cloudbuild_script(cloudbuild_step(DEPLOY, "build-push-image"))
    assert "--file images/components/Dockerfile" in build
    assert 'docker push "$$image"' in build
    assert "RepoDigests" in build


def test_java_17_is_installed_before_the_tests_that_need_it():
    for path in (PR, DEPLOY):
        script = cloudbuild_script(cloudbuild_step(path, "test"))
        assert script.index("openjdk-17-jre-headless") < script.index("make test")


def test_deploy_builds_of_one_environment_are_serialised_including_approval_pending_ones():
    """Issue 10 A4d: `gcloud builds list --ongoing` misses PENDING (waiting for approval)."""
    config = load_yaml(DEPLOY)
    assert config["tags"] == ["churn-deploy-$_ENV", "churn-commit-$COMMIT_SHA"]
    ids = [step["id"] for step in config["steps"]]
    assert ids.index("wait-for-older-builds") < ids.index("publish") < ids.index("apply")
    wait = cloudbuild_script(cloudbuild_step(DEPLOY, "wait-for-older-builds"))
    assert "-m ci.build_queue wait-older" in wait
    assert '--tag "churn-deploy-$$ENV_NAME"' in wait
    assert "--ongoing" not in wait


# -- issue 10 A4: no path around the prod approval, no token for PR code, no pasted flags -------

RUNS_OTHER_BUILDS = (
    "builds submit",
    "triggers run",
    "builds create",
    "impersonate-service-account",
)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_no_build_starts_another_build_or_chooses_its_identity(path):
    """A4a: the dev build used to start the prod trigger; now nothing in any flow starts a
    build, and no config names a service account (the trigger alone decides it)."""
    config = load_yaml(path)
    assert "serviceAccount" not in config
    for step in config["steps"]:
        script = cloudbuild_script(step)
        for words in RUNS_OTHER_BUILDS:
            assert words not in script, f"{path.name} step {step['id']}: {words}"


def test_prod_deploys_only_after_dev_succeeded_for_the_same_commit():
    step = cloudbuild_step(DEPLOY, "after-earlier-environment")
    assert "AFTER_PROJECT=$_AFTER_PROJECT" in step["env"]
    ids = [s["id"] for s in load_yaml(DEPLOY)["steps"]]
    assert ids.index("after-earlier-environment") < ids.index("publish")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_substitutions_reach_scripts_only_through_env(path):
    """A4c: a substitution pasted into a script is shell code; as an env value it is data."""
    for step in load_yaml(path)["steps"]:
        script = cloudbuild_script(step)
        assert substitutions_used(script) == set(), f"{path.name} step {step['id']}"


def test_the_pull_request_build_has_no_secret():
    """A4b: the PR build runs the PR's config and code; it must hold nothing worth stealing."""
    config = load_yaml(PR)
    assert "availableSecrets" not in config and "secrets" not in config
    assert all("secretEnv" not in step for step in config["steps"])
    assert "GITHUB_TOKEN" not in PR.read_text()
    assert config["artifacts"]["objects"]["location"].endswith("/pull-requests/$BUILD_ID/")


def imported_modules(module: str) -> set[str]:
    """Top-level names `ci/<module>.py` imports, following imports of other ci modules."""
    seen, found, todo = set(), set(), [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((REPO / "ci" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for full in names:
                if full.startswith("ci."):
                    todo.append(full.split(".")[1])
                else:
                    found.add(full.split(".")[0])
    return found


def test_the_comment_build_runs_only_standard_library_code_from_main():
    """A4b: the build that holds the token installs nothing and runs no pull-request code."""
    config = load_yaml(COMMENT)
    assert [s for s in config["steps"] if s.get("secretEnv")] == [
        cloudbuild_step(COMMENT, "comment")
    ]
    for step in config["steps"]:
        script = cloudbuild_script(step)
        for forbidden in (".venv", "make ", "pip ", "uv ", "schedule.py", "compile.py"):
            assert forbidden not in script, f"step {step['id']} runs {forbidden!r}"
    assert imported_modules("plan_comment") <= set(sys.stdlib_module_names) | {"__future__"}
