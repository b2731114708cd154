"""What is left to do by hand after the setup, with the exact commands (pure text)."""

from __future__ import annotations

import shlex

from infra import desired
from infra.envfile import Environment, shown
from infra.trigger_config import trigger_settings

_INDENT = "\n      "
#: What operators need on the invoker to mint its ID tokens (scheduling/README.md "backfill").
OPERATOR_TOKEN_ROLE = "roles/iam.serviceAccountOpenIdTokenCreator"
#: Printed in place of the real on-call group, which only the team knows.
OPERATOR_PLACEHOLDER = "group:ONCALL@example.com"


def left_to_do(env: Environment, trigger_deployed: bool, redeploy: bool = False) -> list[str]:
    """Items in the order to do them: each a short why followed by the commands to run.

    The deploy command is printed while the trigger is not deployed, and again when the
    deployed function differs from the environment file (`redeploy`).
    """
    items = [_deployer(env)]
    if not trigger_deployed or redeploy:
        items.append(_deploy_trigger(env))
    items.append(_publish(env))
    items.append(_operators(env))
    return items


def _deployer(env: Environment) -> str:
    dep = env.deployment
    act_as = (
        shlex.join(
            [
                "gcloud",
                "iam",
                "service-accounts",
                "add-iam-policy-binding",
                dep.service_accounts["trigger"],
                f"--project={dep.project}",
                "--role=roles/iam.serviceAccountUser",
            ]
        )
        + ' --member="user:$(gcloud config get-value account)"'
    )
    return (
        "Create the CI accounts and their grants (one deploy account per environment, which "
        "publishes, pushes the image and applies schedules as the invoker; the pull-request "
        "plan and comment accounts): the command below prints the gcloud commands to review "
        "and run (ci/README.md). Whoever deploys the trigger function must be able to act as "
        "the trigger account (project owners can; anyone else needs the second command):"
        + _INDENT
        + "python -m ci.deploy_iam --repo OWNER/REPO "
        "--pool projects/NUMBER/locations/global/workloadIdentityPools/POOL" + _INDENT + act_as
    )


def _deploy_trigger(env: Environment) -> str:
    dep = env.deployment
    accounts = dep.service_accounts
    name = desired.function_name(env.trigger_url)
    # gcloud splits --set-env-vars at commas; none of these values can hold one (the contract's
    # patterns for projects, URIs, accounts and topic ids exclude it).
    env_vars = ",".join(f"{k}={v}" for k, v in trigger_settings(dep).items())
    # The function is uploaded as trigger/ alone: the contract modules it imports are copied in
    # first (trigger/contract/ is a build product, not in the repository).
    deploy = "python -m contract.vendor trigger/ && " + shlex.join(
        [
            "gcloud",
            "functions",
            "deploy",
            name,
            "--gen2",
            "--runtime=python311",
            f"--project={dep.project}",
            f"--region={dep.region}",
            "--source=trigger/",
            "--entry-point=trigger",
            "--trigger-http",
            "--no-allow-unauthenticated",
            f"--service-account={accounts['trigger']}",
            # A call takes well under a second; the timeout only bounds a hung one and stays
            # below the schedules' attempt_deadline (trigger/README.md "Deploy").
            "--memory=512Mi",
            "--timeout=60s",
            "--max-instances=10",
            f"--set-env-vars={env_vars}",
        ]
    )
    describe = shlex.join(
        [
            "gcloud",
            "functions",
            "describe",
            name,
            f"--project={dep.project}",
            f"--region={dep.region}",
            "--format=value(serviceConfig.uri)",
        ]
    )
    number = f"$(gcloud projects describe {dep.project} --format='value(projectNumber)')"
    builder = (
        f"gcloud projects add-iam-policy-binding {dep.project} "
        f'--member="serviceAccount:{number}-compute@developer.gserviceaccount.com" '
        "--role=roles/cloudbuild.builds.builder --condition=None"
    )
    return (
        "Deploy the trigger function (more options: trigger/README.md), put its Cloud Run URL "
        f"(serviceConfig.uri, printed by the second command; not its cloudfunctions.net URL, "
        f"which Cloud Run does not accept as the OIDC audience) in {shown(env.path)} as "
        "trigger_url, then run this setup again: it grants the invoker account run.invoker on "
        "the function's service and checks the URL."
        + _INDENT
        + deploy
        + _INDENT
        + describe
        + _INDENT
        + "# Only if the deploy fails because the build account lacks permissions (projects "
        "created since July 2024 build with the Compute Engine default account):"
        + _INDENT
        + builder
    )


def _publish(env: Environment) -> str:
    dep = env.deployment
    host = f"{dep.region}-docker.pkg.dev"
    image = f"{host}/{dep.project}/{desired.REPOSITORY}/components"
    commands = [
        f'IMAGE="{image}:$(git rev-parse HEAD)"',
        f"gcloud auth configure-docker {host}",
        'docker build --platform linux/amd64 -f images/components/Dockerfile -t "$IMAGE" . '
        '&& docker push "$IMAGE"',
        'DIGEST=$(gcloud artifacts docker images describe "$IMAGE" '
        "--format='value(image_summary.digest)')",
        f"python compile.py --publish --env {dep.name} --version $(git rev-parse --short HEAD) "
        f'--components-image "{image}@$DIGEST"',
        f"python schedule.py plan --env {dep.name} && python schedule.py apply --env {dep.name}",
    ]
    return (
        "Build and push the components image, publish the templates and Spark code, apply the "
        "schedules (the deploy flow does all of this on merge, see ci/README.md):"
        + _INDENT
        + _INDENT.join(commands)
    )


def _operators(env: Environment) -> str:
    dep = env.deployment
    invoker = dep.service_accounts["invoker"]
    grant = shlex.join(
        [
            "gcloud",
            "iam",
            "service-accounts",
            "add-iam-policy-binding",
            invoker,
            f"--project={dep.project}",
            f"--role={OPERATOR_TOKEN_ROLE}",
            f"--member={OPERATOR_PLACEHOLDER}",
        ]
    )
    return (
        "Let the on-call operators run `schedule.py backfill` and `schedule.py run NAME --param "
        "K=V`: these call the trigger themselves, as the invoker account, with an ID token they "
        "mint through IAM Credentials (generateIdToken). Cloud Run lets only the invoker account "
        "call the function, and the trigger honours Cloud Scheduler's fire-time header only "
        "from it, which is what gives a backfilled slot its scheduled fire's job id. Grant "
        f"{OPERATOR_TOKEN_ROLE} on the invoker account "
        "only (on the project it would let them mint tokens of every account), to the on-call "
        "group (or user:ONCALL@example.com for one person): it lets them start runs as the "
        "scheduler, so to the people on call only. Replace the placeholder member:"
        + _INDENT
        + grant
    )
