"""Pure rules of the setup: names it derives and the API list."""

from __future__ import annotations

from pathlib import Path

from infra import desired
from infra.envfile import load
from infra.gcloud import Looked
from infra.network import firewall
from infra.step import Blocked
from tests.infra.conftest import ENVIRONMENTS

DEV = load(ENVIRONMENTS, "dev").deployment


def test_function_name_comes_from_a_cloudfunctions_url_else_the_default():
    url = "https://europe-west4-acme-churn-dev.cloudfunctions.net/churn-trigger"
    assert desired.function_name(url) == "churn-trigger"
    assert desired.function_name("https://x.cloudfunctions.net/other-fn") == "other-fn"
    assert desired.function_name("https://churn-trigger-abc123-ez.a.run.app") == "churn-trigger"
    assert desired.function_name("https://churn-fire-123456789012.europe-west4.run.app") == (
        "churn-fire"
    )
    assert desired.function_name("https://fire-2-abcdefghij-ez.a.run.app") == "fire-2"
    assert desired.function_name("") == "churn-trigger"


def test_firewall_rule_name_is_a_valid_compute_name_for_any_subnetwork():
    for subnet in ("a", "churn-dataproc", "s" * 63):
        name = desired.firewall_rule_name(subnet)
        assert len(name) <= 63 and name[0].isalpha() and not name.endswith("-")


def test_runtime_30_needs_the_dataproc_resource_manager_api():
    assert "dataprocrm.googleapis.com" in desired.APIS
    assert "dataproc-rm.googleapis.com" not in desired.APIS
    assert all(why for why in desired.APIS.values())


def test_every_grant_has_a_reason():
    for grant in desired.project_grants(DEV):
        assert grant.role.startswith(("roles/", f"projects/{DEV.project}/roles/")), grant
        assert grant.why, grant
    for grants in desired.bucket_grants(DEV).values():
        assert all(g.why and g.role.startswith("roles/storage.") for g in grants)
    assert all(why for *_, why in desired.ACT_AS)
    for role in desired.CUSTOM_ROLES:
        assert role.title and role.description and (role.permissions or role.derived_from)


def test_firewall_compares_the_whole_rule():
    rule = firewall("p", "r")
    facts = {"network": "churn", "cidr": "10.8.0.0/20"}
    good = {
        "direction": "INGRESS",
        "allowed": [{"IPProtocol": "all"}],
        "sourceRanges": ["10.8.0.0/20"],
        "destinationRanges": ["10.8.0.0/20"],
    }

    def decide(data):
        return rule.decide({rule.describe(): Looked(True, data)}, facts)

    assert decide(good).changes == []
    egress = decide({**good, "direction": "EGRESS"})
    assert isinstance(egress, Blocked) and egress.word == "blocked"
    assert egress.changes == [] and "firewall-rules delete r --project p" in egress.notes[0]
    for change in (
        {"allowed": [{"IPProtocol": "tcp"}]},
        {"sourceRanges": ["0.0.0.0/0"]},
        {"destinationRanges": []},
        {"disabled": True},
    ):
        outcome = decide({**good, **change})
        assert [c.command.args[:3] for c in outcome.changes] == [
            ("compute", "firewall-rules", "update")
        ], change


def test_the_readme_table_names_every_role_the_setup_grants():
    readme = (Path(__file__).resolve().parents[2] / "infra" / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    granted = [
        (g.account, g.role.replace(f"projects/{DEV.project}/", "projects/<project>/"))
        for g in desired.project_grants(DEV)
    ]
    granted += [(actor, role) for _, actor, role, _ in desired.ACT_AS]
    granted += [(desired.REPOSITORY_ROLE[0], desired.REPOSITORY_ROLE[1])]
    granted += [("invoker", desired.INVOKER_ROLE)]
    for account, role in granted:
        assert any(row.startswith(f"| {account} | `{role}`") for row in rows), (account, role)
    for api in desired.APIS:
        assert api.split(".")[0] in readme, api
