"""What is left to do by hand after the setup, with the exact commands (pure text)."""

from __future__ import annotations

import shlex

from infra import desired
from infra.envfile import Environment


def left_to_do(env: Environment, trigger_deployed: bool) -> list[str]:
    """Numbered-ready items: each a short why followed by the commands to run."""
    dep = env.deployment
    accounts = dep.service_accounts
    name = desired.function_name(env.trigger_url)
    items: list[str] = []
    if not trigger_deployed:
        env_vars = ",".join(
            f"{k}={v}"
            for k, v in (
                ("PROJECT", dep.project),
                ("REGION", dep.region),
                ("ENVIRONMENT", dep.name),
                ("TEMPLATE_BASE", dep.template_base),
                ("PIPELINE_ROOT", dep.pipeline_root),
                ("PIPELINE_SERVICE_ACCOUNT", accounts["pipelines"]),
                ("SCHEDULER_INVOKER", accounts["invoker"]),
            )
        )
        deploy = shlex.join(
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
                "--format=value(url)",
            ]
        )
        items.append(
            "Deploy the trigger function (options: trigger/README.md), put its URL in "
            f"{env.path} as trigger_url, then run this setup again: it grants the invoker "
            f"account run.invoker on the function's service.\n      {deploy}\n      {describe}"
        )
    items.append(
        "Let the account that deploys (CI, or you) act as the trigger and invoker accounts: "
        "`functions deploy` runs the function as the trigger account, and `schedule.py apply` "
        "creates jobs whose OIDC token is the invoker's. Set DEPLOYER to its member string "
        "(e.g. serviceAccount:ci@...):\n"
        + "\n".join(
            "      "
            + shlex.join(
                [
                    "gcloud",
                    "iam",
                    "service-accounts",
                    "add-iam-policy-binding",
                    accounts[key],
                    f"--project={dep.project}",
                    "--role=roles/iam.serviceAccountUser",
                ]
            )
            + ' --member="$DEPLOYER"'
            for key in ("trigger", "invoker")
        )
    )
    image = f"{dep.region}-docker.pkg.dev/{dep.project}/{desired.REPOSITORY}/components"
    items.append(
        "Build and push the components image, publish the templates and Spark code, apply the "
        "schedules (the deploy flow does all of this on merge, see ci/README.md):\n"
        f"      gcloud builds submit --project={dep.project} --region={dep.region} "
        f"--tag={image}:$(git rev-parse HEAD) images/components\n"
        f"      python compile.py --publish --env {dep.name}"
        f" --version $(git rev-parse --short HEAD) --components-image {image}@sha256:DIGEST\n"
        f"      python schedule.py plan --env {dep.name}"
        f" && python schedule.py apply --env {dep.name}"
    )
    return items
