"""The failure-alerts topic: created in the environment's project, publishers granted on it only.

Two senders publish to `alerts.pubsub_topic` (scheduling/README.md "Failure alerts"): the
pipelines' notify-failure step (as the pipelines account) and the trigger (as its own account).
Both only call Publish, so `roles/pubsub.publisher` on the topic is all they need; neither gets
a Pub/Sub role on the project, where it would reach every other topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra import desired
from infra.gcloud import Command, Looked, gcloud
from infra.policy import Policy, Target, Wanted
from infra.steps import Decision, Facts, Step


@dataclass
class Topic:
    """Create the Pub/Sub topic when it does not exist (an existing one is kept as it is)."""

    project: str
    name: str

    @property
    def title(self) -> str:
        return f"alerts topic projects/{self.project}/topics/{self.name}"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "pubsub",
                "topics",
                "describe",
                self.name,
                "--project",
                self.project,
                "--format=json",
            )
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if looked[0].found:
            return Decision(detail="exists")
        return Decision([self._create()], "created")

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [(self._create(), "if it does not exist")]

    def _create(self) -> Command:
        return gcloud("pubsub", "topics", "create", self.name, "--project", self.project)


def alert_steps(project: str, topic: str, accounts: dict[str, str]) -> list[Step]:
    """The topic and its publisher grants; nothing when the environment sends no alerts."""
    if not topic:
        return []
    target = Target(
        ("pubsub", "topics"), topic, ("--project", project), label=f"alerts topic {topic}"
    )
    wanted = [
        Wanted(desired.member(accounts[key]), role, why)
        for key, role, why in desired.TOPIC_PUBLISHERS
    ]
    return [Topic(project, topic), Policy(target, wanted)]
