"""The trigger function's settings an environment implies, and a look at the deployed function.

The function is deployed by hand (the printed command, "Left to do by hand"), so it can drift
from the environment file: deployed before `alerts.pubsub_topic` was added (no ALERTS_TOPIC, so
a fire with no run alerts nobody), with another pipeline root, or as the default compute
account (then the trigger account's grants do nothing). The setup never redeploys it (that
needs the source); it looks and says what differs, with the command to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.deployment import Deployment
from infra.gcloud import Command, Looked, gcloud
from infra.steps import Decision, Facts


def trigger_settings(dep: Deployment) -> dict[str, str]:
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


@dataclass
class TriggerFunction:
    """Look at the deployed trigger function: its variables and identity (never changes it)."""

    project: str
    region: str
    name: str
    wanted: dict[str, str]
    account: str
    env_file: str

    @property
    def title(self) -> str:
        return f"trigger function {self.name} settings"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "functions",
                "describe",
                self.name,
                "--region",
                self.region,
                "--project",
                self.project,
                "--format=json",
            )
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if not looked[0].found:
            return Decision(status="waiting", detail="not deployed yet")
        found = differences(looked[0].data, self.wanted, self.account)
        if not found:
            return Decision(detail=f"{len(self.wanted)} variable(s) and identity as in the file")
        return Decision(
            status="differs",
            detail="; ".join(found),
            notes=[
                f"The trigger function {self.name} differs from {self.env_file}: "
                + "; ".join(found)
                + ". Redeploy it with the `gcloud functions deploy` command below."
            ],
        )

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return []
