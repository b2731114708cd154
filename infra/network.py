"""The Dataproc Serverless subnetwork and the firewall rule it needs.

Serverless for Apache Spark network requirements
(https://cloud.google.com/dataproc-serverless/docs/concepts/network): the batch's regional
subnet must have Private Google Access (workers have internal IPs only and reach Cloud Storage,
BigQuery and the Dataproc control plane through it), and "must allow internal communication on
all ports between VM instances within the subnet" — an ingress rule, all protocols, from the
subnet's ranges to the subnet's ranges. Without it the Spark driver cannot reach its executors.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.gcloud import Command, Looked, gcloud
from infra.steps import Decision, Facts


@dataclass
class Subnetwork:
    """The subnetwork (and its custom-mode network when both are missing), PGA on."""

    project: str
    region: str
    name: str
    network: str
    cidr: str

    @property
    def title(self) -> str:
        return f"subnetwork {self.name} in {self.region} with Private Google Access"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "compute",
                "networks",
                "subnets",
                "describe",
                self.name,
                "--region",
                self.region,
                "--project",
                self.project,
                "--format=json",
            ),
            gcloud(
                "compute",
                "networks",
                "describe",
                self.network,
                "--project",
                self.project,
                "--format=json",
            ),
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        subnet, network = looked
        if subnet.found:
            data = subnet.data or {}
            facts["network"] = str(data.get("network", self.network)).rsplit("/", 1)[-1]
            facts["cidr"] = str(data.get("ipCidrRange", self.cidr))
            if data.get("privateIpGoogleAccess") is True:
                return Decision(detail=f"exists ({facts['cidr']} in {facts['network']})")
            return Decision([self._enable_pga()], "updated", "Private Google Access turned on")
        facts["network"], facts["cidr"] = self.network, self.cidr
        commands = [] if network.found else [self._create_network()]
        detail = f"{self.cidr} in network {self.network}" + ("" if network.found else " (new)")
        return Decision([*commands, self._create()], "created", detail)

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        facts.setdefault("network", self.network)
        facts.setdefault("cidr", self.cidr)
        return [
            (self._create_network(), "if neither the subnetwork nor the network exists"),
            (self._create(), "if the subnetwork does not exist"),
            (self._enable_pga(), "if it exists with Private Google Access off"),
        ]

    def _create_network(self) -> Command:
        return gcloud(
            "compute",
            "networks",
            "create",
            self.network,
            "--project",
            self.project,
            "--subnet-mode=custom",
        )

    def _create(self) -> Command:
        return gcloud(
            "compute",
            "networks",
            "subnets",
            "create",
            self.name,
            "--project",
            self.project,
            "--region",
            self.region,
            "--network",
            self.network,
            "--range",
            self.cidr,
            "--enable-private-ip-google-access",
        )

    def _enable_pga(self) -> Command:
        return gcloud(
            "compute",
            "networks",
            "subnets",
            "update",
            self.name,
            "--project",
            self.project,
            "--region",
            self.region,
            "--enable-private-ip-google-access",
        )


@dataclass
class Firewall:
    """Ingress on all protocols and ports from the subnetwork's range to itself."""

    project: str
    name: str

    @property
    def title(self) -> str:
        return f"firewall rule {self.name} (subnet to itself, all protocols)"

    def looks(self, facts: Facts) -> list[Command]:
        return [
            gcloud(
                "compute",
                "firewall-rules",
                "describe",
                self.name,
                "--project",
                self.project,
                "--format=json",
            )
        ]

    def decide(self, looked: list[Looked], facts: Facts) -> Decision:
        if not looked[0].found:
            return Decision([self._create(facts)], "created", facts["cidr"])
        data = looked[0].data or {}
        if str(data.get("direction", "")).upper() != "INGRESS":
            # The direction of a rule cannot be changed; only a person may delete it.
            delete = gcloud(
                "compute", "firewall-rules", "delete", self.name, "--project", self.project
            )
            note = (
                f"firewall rule {self.name} exists as an egress rule; delete it "
                f"({delete.text()}) and run again"
            )
            return Decision(status="blocked", detail="exists with another direction", notes=[note])
        allowed = {str(a.get("IPProtocol", "")) for a in data.get("allowed") or []}
        ranges = [facts["cidr"]]
        if (
            "all" in allowed
            and list(data.get("sourceRanges") or []) == ranges
            and list(data.get("destinationRanges") or []) == ranges
            and not data.get("disabled")
        ):
            return Decision(detail="exists")
        return Decision([self._update(facts)], "updated", f"all protocols within {facts['cidr']}")

    def possible(self, facts: Facts) -> list[tuple[Command, str]]:
        return [
            (self._create(facts), "if it does not exist"),
            (self._update(facts), "if it exists with other ranges or protocols"),
        ]

    def _create(self, facts: Facts) -> Command:
        return gcloud(
            "compute",
            "firewall-rules",
            "create",
            self.name,
            "--project",
            self.project,
            "--network",
            facts["network"],
            "--direction=INGRESS",
            "--action=ALLOW",
            "--rules=all",
            f"--source-ranges={facts['cidr']}",
            f"--destination-ranges={facts['cidr']}",
        )

    def _update(self, facts: Facts) -> Command:
        return gcloud(
            "compute",
            "firewall-rules",
            "update",
            self.name,
            "--project",
            self.project,
            "--rules=all",
            f"--source-ranges={facts['cidr']}",
            f"--destination-ranges={facts['cidr']}",
            "--no-disabled",
        )
