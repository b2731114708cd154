"""Cloud Build configs: parsed, every step checked (image, entrypoint, substitutions, scripts)."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.ci.flows import (
    CLOUDBUILD,
    CLOUDBUILD_BUILTINS,
    cloudbuild_files,
    cloudbuild_script,
    cloudbuild_step,
    commands_in,
    load_yaml,
    substitute,
    substitutions_used,
)

PR = CLOUDBUILD / "pull-request.yaml"
DEPLOY = CLOUDBUILD / "deploy.yaml"

# The images the steps may use: Python 3.11 on Debian bookworm (openjdk-17 is in its archive),
# and the Google Cloud CLI for the steps that talk to Cloud Build itself.
ALLOWED_IMAGES = {
    "python:3.11-slim-bookworm",
    "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim",
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


def test_both_flows_exist():
    assert {p.name for p in CONFIGS} == {"pull-request.yaml", "deploy.yaml"}


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
        "schedule.py plan --env $env --json --detailed-exitcode".replace('"', ""),
        "ci.plan_comment --dir /workspace/plans --commit $COMMIT_SHA --post "
        "--repo $REPO_FULL_NAME --pr $_PR_NUMBER",
    ]


def test_deploy_build_publishes_to_the_environments_base_and_applies():
    assert commands(DEPLOY) == [
        "make test",
        "make install",
        "compile.py --check",
        "schedule.py validate --env $_ENV",
        "ci.environment $_ENV template_base",
        "compile.py --publish $base --version $COMMIT_SHA $_PUBLISH_FLAGS",
        "schedule.py apply --env $_ENV --auto-approve",
    ]


def test_java_17_is_installed_before_the_tests_that_need_it():
    for path in CONFIGS:
        script = cloudbuild_script(cloudbuild_step(path, "test"))
        assert script.index("openjdk-17-jre-headless") < script.index("make test")


def test_deploy_builds_of_one_environment_are_serialised_and_promoted_after_success():
    config = load_yaml(DEPLOY)
    assert config["tags"] == ["churn-deploy-$_ENV"]
    ids = [step["id"] for step in config["steps"]]
    assert ids.index("wait-for-older-builds") < ids.index("publish") < ids.index("apply")
    assert ids[-1] == "promote"
    wait = cloudbuild_script(cloudbuild_step(DEPLOY, "wait-for-older-builds"))
    assert "tags=churn-deploy-$_ENV" in wait
    promote = cloudbuild_script(cloudbuild_step(DEPLOY, "promote"))
    assert 'gcloud builds triggers run "$_PROMOTE_TRIGGER"' in promote
    assert '--sha="$COMMIT_SHA"' in promote
