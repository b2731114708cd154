"""The Dataproc Serverless subnetwork and the firewall rule it needs.

Serverless for Apache Spark network requirements
(https://cloud.google.com/dataproc-serverless/docs/concepts/network): the batch's regional
subnet must have Private Google Access (workers have internal IPs only and reach Cloud Storage,
BigQuery and the Dataproc control plane through it), and "must allow internal communication on
all ports between VM instances within the subnet" — an ingress rule, all protocols, from the
subnet's ranges to the subnet's ranges. Without it the Spark driver cannot reach its executors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from infra.gcloud import Address, Command
from infra.step import (
    Answers,
    Blocked,
    Change,
    Create,
    Facts,
    Named,
    Outcome,
    Update,
    fields,
)

_PGA = "--enable-private-ip-google-access"


@dataclass
class Subnetwork(Named):
    """The subnetwork (and its custom-mode network when both are missing), PGA on.

    It tells the firewall rule the network and range it covers (`facts`): those of the
    subnetwork found, or of the one it creates.
    """

    network: Address
    cidr: str
    #: The scope create and update name (gcloud takes the flags in any order; the describe
    #: names the region first, these the project: the dry run prints them as it always has).
    changes_in: tuple[str, ...]

    def looks(self, facts: Facts) -> list[Command]:
        return [self.describe(), self.network.describe()]

    def creates(self, facts: Facts) -> list[Create]:
        subnet = replace(self.address, scope=self.changes_in)
        flags = ("--network", self.network.name, "--range", self.cidr, _PGA)
        return [
            Create(
                self.network.command("create", "--subnet-mode=custom"),
                "if neither the subnetwork nor the network exists",
            ),
            Create(subnet.command("create", *flags), "if the subnetwork does not exist"),
        ]

    def fixes(self, facts: Facts) -> list[Change]:
        subnet = replace(self.address, scope=self.changes_in)
        when = "if it exists with Private Google Access off"
        return [Update(subnet.command("update", _PGA), when)]

    def possible(self, facts: Facts) -> list[Change]:
        # The dry run's firewall rule covers the subnetwork this would create.
        facts.setdefault("network", self.network.name)
        facts.setdefault("cidr", self.cidr)
        return super().possible(facts)

    def decide(self, answers: Answers, facts: Facts) -> Outcome:
        if answers[self.describe()].found:
            return super().decide(answers, facts)
        facts["network"], facts["cidr"] = self.network.name, self.cidr
        network, subnet = self.creates(facts)
        detail = f"{self.cidr} in network {self.network.name}"
        if answers[self.network.describe()].found:
            return Outcome([subnet], detail)
        return Outcome([network, subnet], f"{detail} (new)")

    def found(self, data: Any, facts: Facts) -> Outcome:
        data = fields(data)
        facts["network"] = str(data.get("network", self.network.name)).rsplit("/", 1)[-1]
        facts["cidr"] = str(data.get("ipCidrRange", self.cidr))
        if data.get("privateIpGoogleAccess") is True:
            return Outcome(detail=f"exists ({facts['cidr']} in {facts['network']})")
        return Outcome(self.fixes(facts), "Private Google Access turned on")


def subnetwork(project: str, region: str, name: str, network: str, cidr: str) -> Subnetwork:
    """The step of subnetwork `name`; `network` and `cidr` are for creating it."""
    return Subnetwork(
        f"subnetwork {name} in {region} with Private Google Access",
        Address(
            ("compute", "networks", "subnets"), name, ("--region", region, "--project", project)
        ),
        Address(("compute", "networks"), network, ("--project", project)),
        cidr,
        ("--project", project, "--region", region),
    )


class Firewall(Named):
    """Ingress on all protocols and ports from the subnetwork's range to itself."""

    def creates(self, facts: Facts) -> list[Create]:
        flags = ("--network", facts["network"], "--direction=INGRESS", "--action=ALLOW")
        return [Create(self.address.command("create", *flags, *_within(facts["cidr"])))]

    def created(self, facts: Facts) -> str:
        return facts["cidr"]

    def fixes(self, facts: Facts) -> list[Change]:
        update = self.address.command("update", *_within(facts["cidr"]), "--no-disabled")
        return [Update(update, "if it exists with other ranges or protocols")]

    def found(self, data: Any, facts: Facts) -> Outcome:
        data = fields(data)
        if str(data.get("direction", "")).upper() != "INGRESS":
            # The direction of a rule cannot be changed; only a person may delete it.
            note = (
                f"firewall rule {self.address.name} exists as an egress rule; delete it "
                f"({self.address.command('delete').text()}) and run again"
            )
            return Blocked(detail="exists with another direction", notes=[note])
        allowed = {str(a.get("IPProtocol", "")) for a in data.get("allowed") or []}
        ranges = [facts["cidr"]]
        if (
            "all" in allowed
            and list(data.get("sourceRanges") or []) == ranges
            and list(data.get("destinationRanges") or []) == ranges
            and not data.get("disabled")
        ):
            return Outcome(detail="exists")
        return Outcome(self.fixes(facts), f"all protocols within {facts['cidr']}")


def firewall(project: str, name: str) -> Firewall:
    """The step of firewall rule `name`, on the network and range the subnetwork step found."""
    address = Address(("compute", "firewall-rules"), name, ("--project", project))
    return Firewall(f"firewall rule {name} (subnet to itself, all protocols)", address)


def _within(cidr: str) -> tuple[str, ...]:
    """All protocols, from the range to the range."""
    return ("--rules=all", f"--source-ranges={cidr}", f"--destination-ranges={cidr}")
