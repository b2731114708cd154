"""The ordered steps that set up one environment (pure: builds steps, runs nothing).

Order matters to Google Cloud: APIs before anything that uses them, accounts and custom roles
before the bindings that name them, buckets before their policies, the network before its
firewall rule, the BigQuery dataset before its access entry, the alerts topic before its
publishers, and the trigger's look at the deployed trigger function and its invoker binding
last (the function is deployed after this setup; a re-run checks and grants them).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import desired
from infra.bigquery import Dataset, DatasetAccess, Grant
from infra.envfile import Environment, shown
from infra.network import Firewall, Subnetwork
from infra.policy import Policy, Target, Wanted
from infra.pubsub import alert_steps
from infra.roles import CustomRoleStep
from infra.steps import Bucket, Repository, ServiceAccount, Services, Step
from infra.trigger_config import TriggerFunction, trigger_settings


@dataclass(frozen=True)
class Options:
    """Choices the environment file does not make (network of a new subnetwork)."""

    network: str = desired.DEFAULT_NETWORK
    subnet_range: str = desired.DEFAULT_SUBNET_RANGE


def steps_for(env: Environment, options: Options = Options()) -> list[Step]:
    """Every step of the setup of `env`, in the order they must run."""
    dep = env.deployment
    steps: list[Step] = [Services(dep.project, desired.apis(dep))]
    for key, email in dep.service_accounts.items():
        steps.append(ServiceAccount(dep.project, email, key, desired.ACCOUNT_PURPOSE[key]))
    steps += [CustomRoleStep(dep.project, role) for role in desired.CUSTOM_ROLES]
    steps.append(_project_roles(env))
    steps.append(_act_as(env))
    for bucket, grants in desired.bucket_grants(dep).items():
        steps.append(Bucket(dep.project, bucket, dep.region))
        target = Target(
            ("storage", "buckets"),
            f"gs://{bucket}",
            label=f"gs://{bucket}",
            add_extra=("--condition=None",),
        )
        wanted = [Wanted(g.member, g.role, g.why, g.condition) for g in grants]
        steps.append(Policy(target, wanted))
    if dep.subnetwork:
        steps.append(
            Subnetwork(
                dep.project, dep.region, dep.subnetwork, options.network, options.subnet_range
            )
        )
        steps.append(Firewall(dep.project, desired.firewall_rule_name(dep.subnetwork)))
    steps += _warehouse(env)
    steps += _repository(env)
    steps += alert_steps(dep.project, dep.alerts_topic_id, dep.service_accounts)
    steps.append(_trigger_function(env))
    steps.append(_invoker(env))
    return steps


def _project_roles(env: Environment) -> Policy:
    dep = env.deployment
    wanted = [
        Wanted(desired.member(dep.service_accounts[g.account]), g.role, g.why, g.condition)
        for g in desired.project_grants(dep)
    ]
    # --condition=None on the unconditional ones: without it gcloud refuses (or prompts) on a
    # policy that holds conditional bindings, as ours now does.
    target = Target(
        ("projects",),
        dep.project,
        label=f"project {dep.project}",
        add_extra=("--condition=None",),
    )
    return Policy(target, wanted)


def _act_as(env: Environment) -> Policy:
    dep = env.deployment
    acted_on = {on for on, _, _, _ in desired.ACT_AS}
    assert acted_on == {"pipelines"}, "one account policy per step"
    email = dep.service_accounts["pipelines"]
    wanted = [
        Wanted(desired.member(dep.service_accounts[actor]), role, why)
        for _, actor, role, why in desired.ACT_AS
    ]
    target = Target(
        ("iam", "service-accounts"),
        email,
        ("--project", dep.project),
        label=f"service account {email}",
    )
    return Policy(target, wanted)


def _warehouse(env: Environment) -> list[Step]:
    """The BigQuery dataset and its grant (nothing when the environment names no dataset)."""
    dep = env.deployment
    if not dep.bigquery_dataset:
        return []
    account, role, why = desired.BIGQUERY_DATASET_ROLE
    grant = Grant(dep.service_accounts[account], role, why)
    return [
        Dataset(dep.project, dep.bigquery_dataset, dep.region),
        DatasetAccess(dep.project, dep.bigquery_dataset, [grant]),
    ]


def _repository(env: Environment) -> list[Step]:
    dep = env.deployment
    account, role, why = desired.REPOSITORY_ROLE
    target = Target(
        ("artifacts", "repositories"),
        desired.REPOSITORY,
        ("--location", dep.region, "--project", dep.project),
        label=f"repository {desired.REPOSITORY}",
    )
    return [
        Repository(dep.project, desired.REPOSITORY, dep.region),
        Policy(target, [Wanted(desired.member(dep.service_accounts[account]), role, why)]),
    ]


def _trigger_function(env: Environment) -> TriggerFunction:
    dep = env.deployment
    return TriggerFunction(
        dep.project,
        dep.region,
        desired.function_name(env.trigger_url),
        trigger_settings(dep),
        dep.service_accounts["trigger"],
        shown(env.path),
        env.trigger_url,
    )


def _invoker(env: Environment) -> Policy:
    dep = env.deployment
    name = desired.function_name(env.trigger_url)
    target = Target(
        ("run", "services"),
        name,
        ("--region", dep.region, "--project", dep.project),
        label=f"trigger service {name}",
    )
    why = "Cloud Scheduler calls the trigger with this account's OIDC token"
    wanted = [Wanted(desired.member(dep.service_accounts["invoker"]), desired.INVOKER_ROLE, why)]
    return Policy(target, wanted, waits_for=f"the trigger function {name}")
