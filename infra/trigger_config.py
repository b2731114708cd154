"""The trigger function's settings an environment implies, and a look at the deployed function.

The function is deployed by hand (the printed command, "Left to do by hand"), so it can drift
from the environment file: deployed before `alerts.pubsub_topic` was added (no ALERTS_TOPIC, so
a fire with no run alerts nobody), with another pipeline root, or as the default compute
account (then the trigger account's grants do nothing). The setup never redeploys it (that
needs the source); it looks and says what differs, with the command to fix it.

It also checks the audience. Cloud Scheduler's OIDC token carries the environment's
`trigger_url` as `aud` (scheduling/jobs.py; HttpTarget.oidcToken.audience), and Cloud Run
accepts a token only whose audience is the service's `*.run.app` URL or one of its configured
custom audiences (Cloud Run "Set custom audiences for services"). A 2nd gen function has two
URLs, its `cloudfunctions.net` one (`url`) and the Cloud Run service's (`serviceConfig.uri`);
the environment file must name the latter (or the service must list the former as a custom
audience, which `gcloud run services describe` shows as the
`run.googleapis.com/custom-audiences` annotation).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from contract.environment import Environment
from infra.gcloud import Address, Command
from infra.step import Answers, Differs, Facts, Named, Outcome, Waiting


def trigger_settings(dep: Environment) -> dict[str, str]:
    """The trigger's environment variables for `dep` (trigger/README.md's configuration table).

    Every required variable, from the environment file, plus ALERTS_TOPIC when the file names a
    topic (without it the trigger sends no fire_without_run alerts). The optional ones keep the
    function's defaults: LEASE_ROOT = <PIPELINE_ROOT>/trigger-leases (the bucket this setup
    grants the trigger), MANUAL_RUNS = allow (`schedule.py run --param` makes manual runs).
    """
    accounts = dep.service_accounts
    settings = {
        "PROJECT": dep.project,
        "REGION": dep.region,
        "ENVIRONMENT": dep.name,
        "TEMPLATE_BASE": dep.template_base,
        "PIPELINE_ROOT": dep.pipeline_root,
        "PIPELINE_SERVICE_ACCOUNT": accounts["pipelines"],
        "SCHEDULER_INVOKER": accounts["invoker"],
    }
    if dep.alerts_topic:
        settings["ALERTS_TOPIC"] = dep.alerts_topic
    return settings


def differences(function: Any, wanted: dict[str, str], account: str) -> list[str]:
    """What a deployed function (Cloud Functions v2 `Function` JSON) lacks or has otherwise."""
    config = function.get("serviceConfig") if isinstance(function, dict) else None
    config = config if isinstance(config, dict) else {}
    current = config.get("environmentVariables") or {}
    found = []
    for name, value in wanted.items():
        if name not in current:
            found.append(f"{name} is not set (want {value})")
        elif current[name] != value:
            found.append(f"{name} is {current[name]}, not {value}")
    runs_as = config.get("serviceAccountEmail") or "the default compute account"
    if runs_as != account:
        found.append(f"it runs as {runs_as}, not {account}")
    return found


def custom_audiences(service: Any) -> list[str]:
    """A Cloud Run service's custom audiences, from `gcloud run services describe` JSON."""
    metadata = service.get("metadata") if isinstance(service, dict) else None
    annotations = (metadata or {}).get("annotations") or {}
    raw = (
        annotations.get("run.googleapis.com/custom-audiences")
        if isinstance(annotations, dict)
        else None
    )
    try:
        value = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


def audience_problem(
    trigger_url: str, function: Any, service: Any, env_file: str, describe: str
) -> str:
    """Why Cloud Run would refuse the scheduler's token for `trigger_url` ('' when it would not)."""
    config = function.get("serviceConfig") if isinstance(function, dict) else None
    uri = str((config or {}).get("uri") or "")
    accepted = [uri, *custom_audiences(service)]
    if not uri or trigger_url in accepted:
        return ""
    return (
        f"trigger_url {trigger_url or '(none)'} is neither the function's Cloud Run URL {uri} "
        "nor a custom audience of its service, and Cloud Scheduler sends it as the OIDC "
        "audience, which Cloud Run checks: every scheduled call would get 401. Set "
        f"trigger_url: {uri} in {env_file} (as `{describe}` prints it), then "
        "`schedule.py apply`"
    )


@dataclass
class TriggerFunction(Named):
    """Look at the deployed trigger function: its variables, identity and audience (never
    changes it)."""

    #: The Cloud Run service behind the function (its custom audiences; the invoker's grant).
    service: Address
    wanted: dict[str, str]
    account: str
    env_file: str
    trigger_url: str
    #: The command that prints the URL trigger_url must be (said when the audience is wrong).
    describe_uri: str

    def looks(self, facts: Facts) -> list[Command]:
        return [self.describe(), self.service.describe()]

    def missing(self, facts: Facts) -> Outcome:
        return Waiting(detail="not deployed yet")

    def decide(self, answers: Answers, facts: Facts) -> Outcome:
        function = answers[self.describe()]
        if not function.found:
            return self.missing(facts)
        found = differences(function.data, self.wanted, self.account)
        audience = audience_problem(
            self.trigger_url,
            function.data,
            answers[self.service.describe()].data,
            self.env_file,
            self.describe_uri,
        )
        if not found and not audience:
            return Outcome(
                detail=f"{len(self.wanted)} variable(s), identity and audience as in the file"
            )
        notes = []
        if found:
            notes.append(
                f"The trigger function {self.address.name} differs from {self.env_file}: "
                + "; ".join(found)
                + ". Redeploy it with the `gcloud functions deploy` command below."
            )
        if audience:
            notes.append(audience)
        return Differs(
            detail="; ".join([*found, *(["OIDC audience"] if audience else [])]), notes=notes
        )


def trigger_function(
    dep: Environment, name: str, env_file: str, trigger_url: str
) -> TriggerFunction:
    """The look at function `name` of `dep`, against the settings `dep` implies."""
    scope = ("--region", dep.region, "--project", dep.project)
    uri = (
        f"--region={dep.region}",
        f"--project={dep.project}",
        "--format=value(serviceConfig.uri)",
    )
    return TriggerFunction(
        f"trigger function {name} settings",
        Address(("functions",), name, scope),
        Address(("run", "services"), name, scope, f"trigger service {name}"),
        trigger_settings(dep),
        dep.service_accounts["trigger"],
        env_file,
        trigger_url,
        shlex.join(["gcloud", "functions", "describe", name, *uri]),
    )
