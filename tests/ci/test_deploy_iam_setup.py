"""The printed CI setup, run in order against the fake gcloud, and what it lets each job do.

After the environments' own setup (infra/bootstrap.py for dev and prod), every command
`python -m ci.deploy_iam` prints is run in the order printed: the fake refuses a grant on a
bucket, secret, account or custom role that does not exist yet, so the walk shows each is
created first. The resulting policies are then evaluated (tests/infra/iam_model.py): the deploy
accounts write their own environment's templates bucket and nothing else of anyone's data, and
the provider's attribute condition plus the subject bindings decide which account a GitHub job
can reach.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from ci import deploy_iam
from fakes import iam_cel
from tests.ci.flows import REPO, WORKFLOWS, load_yaml
from tests.infra.conftest import ENVIRONMENTS, FAKE, cloud, start_cloud  # noqa: F401
from tests.infra.iam_model import OBJECT_WRITES, gcs_object, permissions, under_project

POOL = "projects/123456789/locations/global/workloadIdentityPools/github"
REPO_NAME = "acme/churn"
PROVIDER = "github"
ENVS = ("dev", "prod")


def _printed(*extra: str) -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ci.deploy_iam",
            "--repo",
            REPO_NAME,
            "--pool",
            POOL,
            "--dir",
            str(ENVIRONMENTS),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def _gcloud(argv: list[str]) -> subprocess.CompletedProcess[str]:
    assert argv[0] == "gcloud", argv
    return subprocess.run(
        [sys.executable, "-S", str(FAKE), *argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )


def _environments_set_up(cloud) -> None:  # noqa: F811 (the fixture)
    for env in ENVS:
        code, _, err = cloud.bootstrap("--env", env)
        assert code == 0, err

    def pool(state):
        # The pool and its GitHub provider, as an administrator created them (ci/README.md).
        state["workload_identity_pools"] = {
            POOL: {
                "providers": {
                    PROVIDER: {
                        "issuerUri": deploy_iam.GITHUB_ISSUER,
                        "attributeMapping": {"google.subject": "assertion.sub"},
                        "attributeCondition": f'assertion.repository == "{REPO_NAME}"',
                    }
                }
            }
        }

    cloud.edit(pool)


def _walk(lines: list[str]) -> None:
    for line in lines:
        if line.startswith("#"):
            continue
        result = _gcloud(shlex.split(line, comments=True))
        assert result.returncode == 0, f"{line}\n{result.stderr}"


@pytest.fixture(scope="module")
def set_up(tmp_path_factory):
    """The state after both environments' setup and the printed CI setup (read only)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        fake = start_cloud(tmp_path_factory.mktemp("ci-setup"), monkeypatch)
        _environments_set_up(fake)
        _walk(_printed())
        return fake.state


def test_the_printed_setup_runs_in_order_creating_before_granting(set_up):
    dev = set_up["projects"]["acme-churn-dev"]
    assert "acme-churn-dev-plans" in set_up["buckets"]
    assert "github-pr-comment-token" in dev["secrets"]
    readers = dev["secrets"]["github-pr-comment-token"]["policy"]["bindings"]
    assert readers == [
        {
            "members": ["serviceAccount:churn-pr-comment@acme-churn-dev.iam.gserviceaccount.com"],
            "role": "roles/secretmanager.secretAccessor",
        }
    ]
    provider = set_up["workload_identity_pools"][POOL]["providers"][PROVIDER]
    assert provider["attributeCondition"] == deploy_iam.provider_condition(REPO_NAME)


def test_a_grant_printed_before_its_resource_would_fail(cloud):  # noqa: F811
    _environments_set_up(cloud)
    lines = _printed()
    creates = [i for i, line in enumerate(lines) if " buckets create " in line]
    assert creates
    first_grant = next(i for i, line in enumerate(lines) if "add-iam-policy-binding" in line)
    assert max(creates) < first_grant
    # The same commands with the bucket and the secret created last: the first grant on the
    # plans bucket is refused as gcloud refuses it (404), so the order above is what works.
    late = [lines[i] for i in creates] + [line for line in lines if " secrets create " in line]
    reordered = [line for line in lines if line not in late] + late
    failures = []
    for line in reordered:
        if line.startswith("#"):
            continue
        result = _gcloud(shlex.split(line, comments=True))
        if result.returncode:
            failures.append((line, result.stderr))
    assert failures and "gs://acme-churn-dev-plans" in failures[0][0]
    assert "not found: 404" in failures[0][1]
    assert any("secrets add-iam-policy-binding" in line for line, _ in failures)


def _deploy(env: str) -> str:
    return f"serviceAccount:churn-deploy@acme-churn-{env}.iam.gserviceaccount.com"


def test_each_deploy_account_writes_its_own_templates_latest_and_spark_code_only(set_up):
    for env in ENVS:
        me = _deploy(env)
        own = f"gs://acme-churn-{env}-templates/templates"
        for name in ("v1/templates/churn-training.yaml", "v1/spark/train.py", "latest.json"):
            held = permissions(set_up, me, gcs_object(set_up, f"{own}/{name}"))
            assert {"storage.objects.create", "storage.objects.delete"} <= held, (env, name)
        lock = gcs_object(set_up, f"{own}/_locks/schedule-apply-{env}.json")
        assert "storage.objects.create" in permissions(set_up, me, lock)
        for bucket in set_up["buckets"]:
            if bucket == f"acme-churn-{env}-templates":
                continue
            held = permissions(set_up, me, gcs_object(set_up, f"gs://{bucket}/any/object"))
            assert not held & OBJECT_WRITES, (env, bucket, held)
            assert not (env == "dev" and "prod" in bucket and held), (bucket, held)
    # The runtime accounts still cannot (the CI grants added nothing for them).
    for account in ("churn-pipelines", "churn-trigger", "churn-scheduler"):
        member = f"serviceAccount:{account}@acme-churn-dev.iam.gserviceaccount.com"
        latest = gcs_object(set_up, "gs://acme-churn-dev-templates/templates/latest.json")
        assert not permissions(set_up, member, latest) & OBJECT_WRITES, account


#: OIDC claims of GitHub Actions jobs (GitHub "OpenID Connect reference": sub, repository,
#: job_workflow_ref).
def _token(sub: str, workflow: str, ref: str, repository: str = REPO_NAME) -> dict[str, str]:
    return {
        "sub": f"repo:{repository}:{sub}",
        "repository": repository,
        "job_workflow_ref": f"{repository}/.github/workflows/{workflow}@{ref}",
    }


JOBS = {
    "deploy.yml dev job on main": (
        _token("ref:refs/heads/main", "deploy.yml", "refs/heads/main"),
        {"churn-deploy@acme-churn-dev"},
    ),
    "deploy.yml prod job (production environment)": (
        _token("environment:production", "deploy.yml", "refs/heads/main"),
        {"churn-deploy@acme-churn-prod"},
    ),
    "another workflow on main": (
        _token("ref:refs/heads/main", "release-notes.yml", "refs/heads/main"),
        set(),
    ),
    "deploy.yml run from a branch": (
        _token("ref:refs/heads/feature", "deploy.yml", "refs/heads/feature"),
        set(),
    ),
    "another workflow in the production environment": (
        _token("environment:production", "hotfix.yml", "refs/heads/main"),
        set(),
    ),
    "pull-request.yml on a pull request": (
        _token("pull_request", "pull-request.yml", "refs/pull/7/merge"),
        {"churn-plan@acme-churn-dev"},
    ),
    "another workflow on a pull request": (
        _token("pull_request", "evil.yml", "refs/pull/7/merge"),
        set(),
    ),
    "a fork's deploy.yml on its main": (
        _token("ref:refs/heads/main", "deploy.yml", "refs/heads/main", "mallory/churn"),
        set(),
    ),
}


def _reachable(state: dict, claims: dict[str, str]) -> set[str]:
    """Accounts a job with `claims` can act as: the provider admits its token, and a binding on
    the account names its subject (google.subject = assertion.sub)."""
    provider = state["workload_identity_pools"][POOL]["providers"][PROVIDER]
    admitted = iam_cel.parse(provider["attributeCondition"]).grants(
        {f"assertion.{k}": v for k, v in claims.items()}
    )
    if not admitted:
        return set()
    principal = f"principal://iam.googleapis.com/{POOL}/subject/{claims['sub']}"
    out = set()
    for project_id, project_state in state["projects"].items():
        for email in project_state["accounts"]:
            account = under_project(email, project_id, "accounts", email)
            if "iam.serviceAccounts.getAccessToken" in permissions(state, principal, account):
                out.add(email.removesuffix(".iam.gserviceaccount.com"))
    return out


@pytest.mark.parametrize("job", sorted(JOBS))
def test_only_the_deploy_workflow_reaches_a_deploy_account(set_up, job):
    claims, expected = JOBS[job]
    assert _reachable(set_up, claims) == expected


def test_the_workflows_the_condition_names_exist_and_deploy_runs_on_main_only():
    deploy = WORKFLOWS / deploy_iam.DEPLOY_WORKFLOW.rsplit("/", 1)[1]
    pull_request = WORKFLOWS / deploy_iam.PULL_REQUEST_WORKFLOW.rsplit("/", 1)[1]
    assert deploy.is_file() and pull_request.is_file()
    data = load_yaml(deploy)
    assert data.get("on", data.get(True)) == {"push": {"branches": ["main"]}}
    data = load_yaml(pull_request)
    assert set(data.get("on", data.get(True))) == {"pull_request"}
