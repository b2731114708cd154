"""The failure-alerts topic: created in the environment's project, publishers granted on it only.

Two senders publish to `alerts.pubsub_topic` (scheduling/README.md "Failure alerts"): the
pipelines' notify-failure step (as the pipelines account) and the trigger (as its own account).
Both only call Publish, so `roles/pubsub.publisher` on the topic is all they need; neither gets
a Pub/Sub role on the project, where it would reach every other topic.
"""

from __future__ import annotations

from contract.environment import Environment
from infra import desired
from infra.gcloud import Address
from infra.policy import Policy
from infra.step import Create, Facts, Named, Step


class Topic(Named):
    """Create the Pub/Sub topic when it does not exist (an existing one is kept as it is)."""

    def creates(self, facts: Facts) -> list[Create]:
        return [Create(self.address.command("create"))]


def alert_steps(dep: Environment) -> list[Step]:
    """The topic and its publisher grants; nothing when the environment sends no alerts."""
    if not dep.alerts_topic_id:
        return []
    topic, project = dep.alerts_topic_id, dep.project
    wanted = [desired.binding(dep, *publisher) for publisher in desired.TOPIC_PUBLISHERS]
    address = Address(("pubsub", "topics"), topic, ("--project", project), f"alerts topic {topic}")
    return [
        Topic(f"alerts topic projects/{project}/topics/{topic}", address),
        Policy(address, wanted),
    ]
