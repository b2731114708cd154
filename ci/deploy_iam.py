"""The CI identities and every role they hold: who may deploy where (issue 10 A4a, pure logic).

    python -m ci.deploy_iam --repo OWNER/REPO --pool projects/NUMBER/locations/global/\\
        workloadIdentityPools/POOL [--provider github] [--env dev --env prod]
prints, in order, the gcloud commands that create the accounts, the plans bucket and the GitHub
token secret, restrict the pool's GitHub provider to this repository's deploy and pull-request
workflows, and grant exactly these roles (each resource is created before the first grant on
it; review them, then run them as an administrator, or let the bootstrap import `ci_grants`).

Environments are deployed in the order given (dev, then prod). Each environment has its own
deploy account in its own project, `churn-deploy@<project>`, and:

- it is the only account that can publish that environment's templates, push its components
  image and change its Cloud Scheduler jobs;
- GitHub Actions may act as it only from the matching place: the first environment's account
  from a push to main (`repo:OWNER/REPO:ref:refs/heads/main`), every later one only from a job
  in the GitHub environment of the same name as the deploy job uses (`environment:production`
  for prod), whose required reviewers are the approval; and, for every deploy account, only
  from the deploy workflow itself: the provider's attribute condition admits a token only when
  its `job_workflow_ref` is `OWNER/REPO/.github/workflows/deploy.yml@refs/heads/main` (or it is
  a pull-request job of pull-request.yml, which can act only as the plan account), so another
  workflow on main gets no federated token at all;
- Cloud Build runs as it only through that environment's own trigger, in its own project (for
  prod: `--require-approval`); no CI account holds a role that creates builds, and no deploy
  account can act as another account except its own environment's scheduler invoker;
- a later environment's account may *read* the earlier one's build list (prod checks that dev's
  build of the commit succeeded); an earlier environment's account holds nothing at all in a
  later one's project. So the dev deploy account cannot submit a build running as the prod
  deploy account, nor reach prod any other way: the prod approval has no way around it.

Pull requests, in the CI project (default: the first environment's): the plan account
(`churn-plan@<ci project>`) only reads Cloud Scheduler jobs and templates and writes plan files;
the comment account (`churn-pr-comment@<ci project>`) alone reads the GitHub token secret and
the plan files. The plan account runs pull-request code; the comment account
never does (cloudbuild/plan-comment.yaml).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ci.components_image import REPOSITORY, ImageError, load
from contract.environment import Environment, bucket_of

#: GitHub environment a later environment's deploy job runs in (.github/workflows/deploy.yml).
GITHUB_ENVIRONMENTS = {"prod": "production"}
#: The PR builds' plan artifacts; cloudbuild/pull-request.yaml and plan-comment.yaml take the
#: name as _PLAN_BUCKET, which both triggers must pass (ci/README.md "Setting up Cloud Build").
PLAN_BUCKET = "{project}-plans"
TOKEN_SECRET = "github-pr-comment-token"
#: The workflows whose jobs may exchange a GitHub token (.github/workflows/).
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
PULL_REQUEST_WORKFLOW = ".github/workflows/pull-request.yml"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
#: Roles that let their holder start a build (and so choose what runs as a trigger's account).
BUILD_CREATING_ROLES = frozenset(
    {
        "roles/cloudbuild.builds.editor",
        "roles/cloudbuild.builds.builder",
        "roles/cloudbuild.integrations.editor",
        "roles/editor",
        "roles/owner",
    }
)
#: Roles on a service account that let their holder act as it.
ACT_AS_ROLES = frozenset(
    {
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.workloadIdentityUser",
    }
)


@dataclass(frozen=True)
class Grant:
    """One role for one member on one resource (`project:ID`, `bucket:NAME`,
    `serviceAccount:EMAIL`, `repository:PROJECT/REGION/NAME`, `secret:PROJECT/NAME`)."""

    member: str
    role: str
    resource: str
    why: str


def deploy_account(dep: Environment) -> str:
    """The deploy account of one environment, in its own project."""
    return f"churn-deploy@{dep.project}.iam.gserviceaccount.com"


def plan_account(ci_project: str) -> str:
    """The pull-request plan account (reads only, runs pull-request code)."""
    return f"churn-plan@{ci_project}.iam.gserviceaccount.com"


def comment_account(ci_project: str) -> str:
    """The account of the trusted comment build, the only reader of the GitHub token."""
    return f"churn-pr-comment@{ci_project}.iam.gserviceaccount.com"


def github_subject(repo: str, position: int, env: str) -> str:
    """The OIDC subject GitHub gives the job that deploys `env` (position 0 = first)."""
    if position == 0:
        return f"repo:{repo}:ref:refs/heads/main"
    return f"repo:{repo}:environment:{GITHUB_ENVIRONMENTS.get(env, env)}"


def ci_grants(
    deployments: list[Environment], repo: str, pool: str, ci_project: str = ""
) -> list[Grant]:
    """Every role the CI accounts hold, for environments deployed in the order given; the
    pull-request accounts live in `ci_project` (default: the first environment's project)."""
    if not deployments:
        raise ValueError("no environments")
    ci_project = ci_project or deployments[0].project
    if not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", ci_project):
        raise ValueError(f"--ci-project '{ci_project}' is not a project id")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise ValueError(f"--repo '{repo}' is not OWNER/REPO")
    if not re.fullmatch(r"projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+", pool):
        raise ValueError(
            f"--pool '{pool}' is not projects/NUMBER/locations/global/workloadIdentityPools/ID"
        )
    grants: list[Grant] = []
    for position, dep in enumerate(deployments):
        me = f"serviceAccount:{deploy_account(dep)}"
        subject = github_subject(repo, position, dep.name)
        grants += [
            Grant(
                f"principal://iam.googleapis.com/{pool}/subject/{subject}",
                "roles/iam.workloadIdentityUser",
                f"serviceAccount:{deploy_account(dep)}",
                f"GitHub Actions acts as it only from {subject}",
            ),
            Grant(me, "roles/cloudscheduler.admin", f"project:{dep.project}", "schedule apply"),
            Grant(
                me,
                "roles/storage.objectUser",
                f"bucket:{bucket_of(dep.template_base)}",
                "publish versions, move latest, hold the apply lock",
            ),
            Grant(
                me,
                "roles/artifactregistry.writer",
                f"repository:{dep.project}/{dep.region}/{REPOSITORY}",
                "push the components image",
            ),
            Grant(
                me,
                "roles/iam.serviceAccountUser",
                f"serviceAccount:{dep.service_accounts['invoker']}",
                "Cloud Scheduler jobs call the trigger with this account's OIDC token",
            ),
            Grant(
                me,
                "roles/cloudbuild.builds.viewer",
                f"project:{dep.project}",
                "wait for older deploy builds (ci.build_queue wait-older)",
            ),
            Grant(me, "roles/logging.logWriter", f"project:{dep.project}", "build logs"),
        ]
        if position:
            before = deployments[position - 1]
            grants.append(
                Grant(
                    me,
                    "roles/cloudbuild.builds.viewer",
                    f"project:{before.project}",
                    f"check {before.name}'s build of the commit succeeded (read only)",
                )
            )
    plan = f"serviceAccount:{plan_account(ci_project)}"
    grants.append(
        Grant(
            f"principal://iam.googleapis.com/{pool}/subject/repo:{repo}:pull_request",
            "roles/iam.workloadIdentityUser",
            f"serviceAccount:{plan_account(ci_project)}",
            "pull-request plan jobs (same-repository branches only)",
        )
    )
    for dep in deployments:
        grants += [
            Grant(plan, "roles/cloudscheduler.viewer", f"project:{dep.project}", "plan"),
            Grant(
                plan,
                "roles/storage.objectViewer",
                f"bucket:{bucket_of(dep.template_base)}",
                "plan resolves published versions",
            ),
        ]
    plans = f"bucket:{PLAN_BUCKET.format(project=ci_project)}"
    comment = f"serviceAccount:{comment_account(ci_project)}"
    grants += [
        Grant(plan, "roles/storage.objectCreator", plans, "PR builds upload their plan files"),
        Grant(plan, "roles/logging.logWriter", f"project:{ci_project}", "build logs"),
        Grant(comment, "roles/storage.objectViewer", plans, "read a finished PR build's plans"),
        Grant(
            comment,
            "roles/secretmanager.secretAccessor",
            f"secret:{ci_project}/{TOKEN_SECRET}",
            "post the plan comment",
        ),
        Grant(comment, "roles/logging.logWriter", f"project:{ci_project}", "build logs"),
    ]
    return grants


def plan_bucket(ci_project: str) -> str:
    """The one name of the plans bucket (the grants, the Cloud Build triggers' _PLAN_BUCKET)."""
    return PLAN_BUCKET.format(project=ci_project)


def provider_condition(repo: str) -> str:
    """The Workload Identity provider's attribute condition for `repo`.

    GitHub's OIDC token carries `job_workflow_ref`, "the ref path to the workflow" the job runs
    (for a reusable one, the called workflow; GitHub "OpenID Connect reference", OIDC token
    claims). Google evaluates the provider's attribute condition on every token exchange and
    refuses a token for which it is false ("Workload Identity Federation", attribute
    conditions); the subject bindings then choose the account. So: the deploy workflow on main,
    or a pull-request job of the pull-request workflow; nothing else of the repository.
    """
    deploy = f"{repo}/{DEPLOY_WORKFLOW}@refs/heads/main"
    pull_request = f"{repo}/{PULL_REQUEST_WORKFLOW}@"
    return (
        f'assertion.repository == "{repo}" && (assertion.job_workflow_ref == "{deploy}" || '
        f'assertion.sub == "repo:{repo}:pull_request" && '
        f'assertion.job_workflow_ref.startsWith("{pull_request}"))'
    )


def _pool_parts(pool: str) -> tuple[str, str]:
    """(project number, pool id) of a pool resource name."""
    parts = pool.split("/")
    return parts[1], parts[-1]


def setup_commands(
    deployments: list[Environment],
    repo: str,
    pool: str,
    ci_project: str = "",
    provider: str = "github",
) -> list[tuple[list[str] | None, str]]:
    """The whole printed setup, in the order to run it: (argv, why); argv None = a note.

    Every resource is created before the first grant on it: accounts, then the plans bucket and
    the token secret (with the API the secret needs), then the provider's condition, then the
    grants (`ci_grants`).
    """
    ci_project = ci_project or deployments[0].project
    grants = ci_grants(deployments, repo, pool, ci_project)
    if not re.fullmatch(r"[a-z][a-z0-9-]{3,30}[a-z0-9]", provider):
        raise ValueError(f"--provider '{provider}' is not a provider id")
    out: list[tuple[list[str] | None, str]] = []
    for email in accounts(deployments, ci_project):
        account, _, domain = email.partition("@")
        project = domain.split(".", 1)[0]
        out.append(
            (["gcloud", "iam", "service-accounts", "create", account, f"--project={project}"], "")
        )
    bucket = plan_bucket(ci_project)
    out += [
        (
            [
                "gcloud", "storage", "buckets", "create", f"gs://{bucket}",
                f"--project={ci_project}", f"--location={deployments[0].region}",
                "--uniform-bucket-level-access", "--public-access-prevention",
            ],
            "the pull-request builds' plan files (_PLAN_BUCKET of both Cloud Build triggers)",
        ),
        (
            ["gcloud", "services", "enable", "secretmanager.googleapis.com",
             f"--project={ci_project}"],
            "the GitHub token secret lives in Secret Manager",
        ),
        (
            ["gcloud", "secrets", "create", TOKEN_SECRET, f"--project={ci_project}",
             "--replication-policy=automatic"],
            "the comment build's GitHub token (add its value below)",
        ),
        (
            None,
            f"then store the token: printf %s \"$TOKEN\" | gcloud secrets versions add "
            f"{TOKEN_SECRET} --project={ci_project} --data-file=-",
        ),
    ]  # fmt: skip
    number, pool_id = _pool_parts(pool)
    out.append(
        (
            [
                "gcloud", "iam", "workload-identity-pools", "providers", "update-oidc", provider,
                f"--project={number}", "--location=global",
                f"--workload-identity-pool={pool_id}",
                f"--attribute-condition={provider_condition(repo)}",
            ],
            "GitHub tokens only from the deploy workflow on main and pull-request jobs",
        )
    )  # fmt: skip
    out += [(gcloud_command(grant), grant.why) for grant in grants]
    out.append(
        (
            None,
            f"Cloud Build triggers churn-pr and churn-pr-comment: pass _PLAN_BUCKET={bucket}",
        )
    )
    return out


def accounts(deployments: list[Environment], ci_project: str = "") -> list[str]:
    """Every CI account to create."""
    ci_project = ci_project or deployments[0].project
    deployers = [deploy_account(d) for d in deployments]
    return [*deployers, plan_account(ci_project), comment_account(ci_project)]


def gcloud_command(grant: Grant) -> list[str]:
    """The gcloud command that makes one grant."""
    kind, _, name = grant.resource.partition(":")
    tail = [f"--member={grant.member}", f"--role={grant.role}"]
    # --condition=None: the environment's project and buckets hold conditional bindings
    # (infra/README.md "Least privilege"), and gcloud refuses a plain add to such a policy.
    if kind == "project":
        return ["gcloud", "projects", "add-iam-policy-binding", name, *tail, "--condition=None"]
    if kind == "bucket":
        return [
            "gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{name}", *tail,
            "--condition=None",
        ]  # fmt: skip
    if kind == "serviceAccount":
        project = name.split("@", 1)[1].split(".", 1)[0]
        return [
            "gcloud", "iam", "service-accounts", "add-iam-policy-binding", name,
            f"--project={project}", *tail,
        ]  # fmt: skip
    if kind == "repository":
        project, region, repository = name.split("/")
        return [
            "gcloud", "artifacts", "repositories", "add-iam-policy-binding", repository,
            f"--project={project}", f"--location={region}", *tail,
        ]  # fmt: skip
    if kind == "secret":
        project, secret = name.split("/")
        return [
            "gcloud", "secrets", "add-iam-policy-binding", secret, f"--project={project}", *tail,
        ]  # fmt: skip
    raise ValueError(f"unknown resource kind in {grant.resource!r}")


def main(argv: list[str] | None = None) -> int:
    """CLI: print the account creations and grants as gcloud commands (nothing is run)."""
    parser = argparse.ArgumentParser(prog="python -m ci.deploy_iam", description=__doc__)
    parser.add_argument("--repo", required=True, help="GitHub OWNER/REPO")
    parser.add_argument("--pool", required=True, help="Workload Identity pool resource name")
    parser.add_argument(
        "--ci-project",
        default="",
        help="project of the pull-request accounts (default: first env's)",
    )
    parser.add_argument(
        "--provider", default="github", help="the pool's GitHub OIDC provider (default: github)"
    )
    parser.add_argument(
        "--env", action="append", help="environments in deploy order (default: dev, prod)"
    )
    parser.add_argument("--dir", type=Path, default=Path("schedules/environments"))
    args = parser.parse_args(argv)
    try:
        deployments = [load(name, args.dir) for name in args.env or ["dev", "prod"]]
        lines = setup_commands(deployments, args.repo, args.pool, args.ci_project, args.provider)
    except (ImageError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for argv, why in lines:
        if argv is None:
            print(f"# {why}")
        else:
            print(shlex.join(argv) + (f"  # {why}" if why else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
