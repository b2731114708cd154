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
from infra.bigquery import Dataset, DatasetAccess
from infra.envfile import Environment, shown
from infra.gcloud import Address
from infra.network import firewall, subnetwork
from infra.policy import Policy
from infra.pubsub import alert_steps
from infra.resources import Services, bucket, repository, service_account
from infra.roles import custom_role
from infra.step import Step
from infra.trigger_config import TriggerFunction, trigger_function

#: Added to a binding without a condition on a policy that holds conditional ones, as the
#: project's and the buckets' do: without it gcloud refuses (or prompts).
_UNCONDITIONAL = ("--condition=None",)


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
        steps.append(service_account(dep.project, email, key, desired.ACCOUNT_PURPOSE[key]))
    steps += [custom_role(dep.project, role) for role in desired.CUSTOM_ROLES]
    steps.append(_project_roles(env))
    steps.append(_act_as(env))
    for name, grants in desired.bucket_grants(dep).items():
        made = bucket(dep.project, name, dep.region)
        steps += [made, Policy(made.address, grants, unconditional=_UNCONDITIONAL)]
    if dep.subnetwork:
        network, cidr = options.network, options.subnet_range
        steps.append(subnetwork(dep.project, dep.region, dep.subnetwork, network, cidr))
        steps.append(firewall(dep.project, desired.firewall_rule_name(dep.subnetwork)))
    steps += _warehouse(env)
    steps += _repository(env)
    steps += alert_steps(dep)
    function = trigger_function(
        dep, desired.function_name(env.trigger_url), shown(env.path), env.trigger_url
    )
    steps += [function, _invoker(env, function)]
    return steps


def _project_roles(env: Environment) -> Policy:
    dep = env.deployment
    target = Address(("projects",), dep.project, label=f"project {dep.project}")
    return Policy(target, desired.project_grants(dep), unconditional=_UNCONDITIONAL)


def _act_as(env: Environment) -> Policy:
    dep = env.deployment
    acted_on = {on for on, _, _, _ in desired.ACT_AS}
    assert acted_on == {"pipelines"}, "one account policy per step"
    email = dep.service_accounts["pipelines"]
    wanted = [desired.binding(dep, actor, role, why) for _, actor, role, why in desired.ACT_AS]
    target = Address(
        ("iam", "service-accounts"), email, ("--project", dep.project), f"service account {email}"
    )
    return Policy(target, wanted)


def _warehouse(env: Environment) -> list[Step]:
    """The BigQuery dataset and its grant (nothing when the environment names no dataset)."""
    dep = env.deployment
    if not dep.bigquery_dataset:
        return []
    grant = desired.binding(dep, *desired.BIGQUERY_DATASET_ROLE)
    return [
        Dataset(dep.project, dep.bigquery_dataset, dep.region),
        DatasetAccess(dep.project, dep.bigquery_dataset, [grant]),
    ]


def _repository(env: Environment) -> list[Step]:
    dep = env.deployment
    made = repository(dep.project, dep.region, desired.REPOSITORY)
    return [made, Policy(made.address, [desired.binding(dep, *desired.REPOSITORY_ROLE)])]


def _invoker(env: Environment, function: TriggerFunction) -> Policy:
    dep = env.deployment
    why = "Cloud Scheduler calls the trigger with this account's OIDC token"
    wanted = [desired.binding(dep, "invoker", desired.INVOKER_ROLE, why)]
    name = function.address.name
    return Policy(function.service, wanted, waits_for=f"the trigger function {name}")
