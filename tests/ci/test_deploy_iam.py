"""ci.deploy_iam: the CI accounts' roles leave no path around the prod approval (issue 10 A4a)
and no way for pull-request code to the comment token (A4b)."""

from __future__ import annotations

import shlex

import pytest

from ci import deploy_iam
from ci.components_image import load
from ci.deploy_iam import (
    ACT_AS_ROLES,
    BUILD_CREATING_ROLES,
    ci_grants,
    comment_account,
    deploy_account,
    plan_account,
)
from tests.ci.flows import REPO, WORKFLOWS, load_yaml

ENVS = REPO / "schedules" / "environments"
POOL = "projects/123456789/locations/global/workloadIdentityPools/github"
REPO_NAME = "acme/churn"


@pytest.fixture(scope="module")
def deployments():
    return [load("dev", ENVS), load("prod", ENVS)]


@pytest.fixture(scope="module")
def grants(deployments):
    return ci_grants(deployments, REPO_NAME, POOL)


def prod_resources(prod) -> set[str]:
    """Every resource name that belongs to the prod environment."""
    return {
        f"project:{prod.project}",
        *(f"bucket:{bucket}" for bucket in prod.buckets().values()),
        *(f"serviceAccount:{email}" for email in prod.service_accounts.values()),
        f"serviceAccount:{deploy_account(prod)}",
        f"repository:{prod.project}/{prod.region}/churn",
    }


def test_the_dev_deploy_account_holds_nothing_in_prod(deployments, grants):
    dev, prod = deployments
    mine = [g for g in grants if g.member == f"serviceAccount:{deploy_account(dev)}"]
    assert mine, "the dev deploy account has no roles at all"
    touching_prod = [g for g in mine if g.resource in prod_resources(prod)]
    assert touching_prod == []
    assert all(prod.project not in g.resource for g in mine)


def test_only_the_production_environment_job_can_act_as_the_prod_deploy_account(
    deployments, grants
):
    _dev, prod = deployments
    on_prod_account = [
        g
        for g in grants
        if g.resource == f"serviceAccount:{deploy_account(prod)}" and g.role in ACT_AS_ROLES
    ]
    assert [(g.member, g.role) for g in on_prod_account] == [
        (
            f"principal://iam.googleapis.com/{POOL}/subject/repo:{REPO_NAME}"
            ":environment:production",
            "roles/iam.workloadIdentityUser",
        )
    ]


def test_no_ci_account_can_start_a_build(grants):
    """A build-creating role would let its holder run any config as a trigger's account."""
    assert [g for g in grants if g.role in BUILD_CREATING_ROLES] == []


def test_deploy_accounts_act_only_as_their_own_environments_invoker(deployments, grants):
    for dep in deployments:
        member = f"serviceAccount:{deploy_account(dep)}"
        acts_as = {g.resource for g in grants if g.member == member and g.role in ACT_AS_ROLES}
        assert acts_as == {f"serviceAccount:{dep.service_accounts['invoker']}"}


def test_a_later_environment_only_reads_the_earlier_ones_builds(deployments, grants):
    dev, prod = deployments
    member = f"serviceAccount:{deploy_account(prod)}"
    in_dev = [
        (g.role, g.resource) for g in grants if g.member == member and dev.project in g.resource
    ]
    assert in_dev == [("roles/cloudbuild.builds.viewer", f"project:{dev.project}")]


def test_the_plan_account_reads_and_only_the_comment_account_reads_the_token(deployments, grants):
    first = deployments[0].project
    plan = f"serviceAccount:{plan_account(first)}"
    roles = {g.role for g in grants if g.member == plan}
    assert roles == {
        "roles/cloudscheduler.viewer",
        "roles/storage.objectViewer",
        "roles/storage.objectCreator",
        "roles/logging.logWriter",
    }
    secret_readers = {g.member for g in grants if g.resource.startswith("secret:")}
    assert secret_readers == {f"serviceAccount:{comment_account(first)}"}
    # GitHub pull-request jobs may act as the plan account and as nothing else.
    pull_request = [g for g in grants if g.member.endswith(":pull_request")]
    assert {g.resource for g in pull_request} == {f"serviceAccount:{plan_account(first)}"}


def test_a_separate_ci_project_holds_the_pull_request_accounts_and_secret(deployments):
    grants = ci_grants(deployments, REPO_NAME, POOL, "acme-churn-ci")
    secret = [g for g in grants if g.resource.startswith("secret:")]
    assert [g.resource for g in secret] == ["secret:acme-churn-ci/github-pr-comment-token"]
    assert secret[0].member == f"serviceAccount:{comment_account('acme-churn-ci')}"
    assert f"serviceAccount:{plan_account('acme-churn-ci')}" in {g.member for g in grants}


def test_the_workflow_jobs_match_the_identity_bindings():
    """The subjects above are what GitHub gives the deploy jobs as the workflow declares them."""
    jobs = load_yaml(WORKFLOWS / "deploy.yml")["jobs"]
    assert "environment" not in jobs["dev"]  # subject repo:OWNER/REPO:ref:refs/heads/main
    assert jobs["prod"]["environment"] == deploy_iam.GITHUB_ENVIRONMENTS["prod"]
    data = load_yaml(WORKFLOWS / "deploy.yml")
    assert data.get("on", data.get(True)) == {"push": {"branches": ["main"]}}


def test_cli_prints_one_gcloud_command_per_account_and_grant(deployments, grants, capsys):
    argv = ["--repo", REPO_NAME, "--pool", POOL, "--dir", str(ENVS)]
    assert deploy_iam.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    commands = [shlex.split(line, comments=True) for line in lines if not line.startswith("#")]
    assert all(words[0] == "gcloud" for words in commands)
    creates = [w for w in commands if w[:4] == ["gcloud", "iam", "service-accounts", "create"]]
    assert len(creates) == len(deploy_iam.accounts(deployments))
    bindings = [w for w in commands if "add-iam-policy-binding" in w]
    assert len(bindings) == len(grants)
    for words in bindings:
        assert any(w.startswith("--member=") for w in words)
        assert any(w.startswith("--role=roles/") for w in words)
        if words[1] == "projects" or words[1:3] == ["storage", "buckets"]:
            # those policies hold conditional bindings: gcloud refuses a plain add there
            assert "--condition=None" in words, words


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repo", "acme", "--pool", POOL], "is not OWNER/REPO"),
        (["--repo", REPO_NAME, "--pool", "github"], "is not projects/NUMBER"),
        (["--repo", REPO_NAME, "--pool", POOL, "--env", "qa"], "--env 'qa': no"),
        (["--repo", REPO_NAME, "--pool", POOL, "--ci-project", "X"], "is not a project id"),
    ],
)
def test_cli_errors_name_the_argument(argv, message, capsys):
    assert deploy_iam.main([*argv, "--dir", str(ENVS)]) == 1
    assert message in capsys.readouterr().err


def test_the_cloud_build_configs_take_the_plan_bucket_from_the_trigger_and_the_secret_granted():
    for name in ("pull-request.yaml", "plan-comment.yaml"):
        config = load_yaml(REPO / "cloudbuild" / name)
        # No default: a name baked in here would differ from the one created and granted.
        assert config["substitutions"]["_PLAN_BUCKET"] == ""
        first = config["steps"][0]
        assert "PLAN_BUCKET=$_PLAN_BUCKET" in first["env"]
        assert "is not a bucket name" in first["args"][1]
    comment = load_yaml(REPO / "cloudbuild" / "plan-comment.yaml")["substitutions"]
    assert comment["_GITHUB_TOKEN_SECRET"] == deploy_iam.TOKEN_SECRET


def test_the_documented_triggers_pass_the_one_plan_bucket_name():
    readme = (REPO / "ci" / "README.md").read_text()
    section = readme.split("## Setting up Cloud Build", 1)[1].split("\n## ", 1)[0]
    commands = [
        part.split("`", 1)[0] for part in section.split("`gcloud builds triggers create ")[1:]
    ]
    assert len(commands) == 2, "the churn-pr and churn-pr-comment commands"
    derived = deploy_iam.PLAN_BUCKET.format(project="<ci>")
    for command in commands:
        assert f"_PLAN_BUCKET={derived}" in command, command
    assert deploy_iam.plan_bucket("acme-churn-ci") == "acme-churn-ci-plans"
