"""The step type: kinds of change in their order with their rendering, outcomes by type."""

from __future__ import annotations

import pytest

from infra import desired
from infra.apply import Report, dry_run
from infra.envfile import load
from infra.gcloud import Address, Looked, gcloud
from infra.policy import Policy
from infra.pubsub import alert_steps
from infra.resources import service_account
from infra.roles import custom_role
from infra.step import (
    Blocked,
    Create,
    Differs,
    Enable,
    Grant,
    Outcome,
    Undelete,
    Update,
    Waiting,
)
from tests.infra.conftest import ENVIRONMENTS

A, B, C = gcloud("a"), gcloud("b"), gcloud("c")
EMAIL = "x@p.iam.gserviceaccount.com"


def _answers(step, *looked: Looked, facts=None) -> dict:
    return dict(zip(step.looks(facts or {}), looked, strict=True))


def test_changes_run_in_their_kinds_order_and_the_first_names_the_step():
    outcome = Outcome([Update(A, "u"), Undelete(B), Create(C), Create(A)])
    assert [type(c) for c in outcome.changes] == [Create, Create, Undelete, Update]
    assert [c.command for c in outcome.changes[:2]] == [C, A], "stable within a kind"
    assert outcome.word == "created"
    assert Outcome([Undelete(A), Update(B, "u")]).word == "updated"
    assert Outcome([Grant(A)]).word == "granted"
    assert Outcome([Enable(A)]).word == "enabled"


def test_an_outcome_without_changes_says_its_kind():
    assert [o.word for o in (Outcome(), Waiting(), Differs(), Blocked())] == [
        "ok",
        "waiting",
        "differs",
        "blocked",
    ]


def test_each_kind_renders_its_condition_in_the_dry_run():
    assert Create(A).dry_run_line() == "gcloud a  # if it does not exist"
    assert Undelete(A).dry_run_line() == "gcloud a  # if it was deleted (kept 7 days)"
    assert Grant(A).dry_run_line() == "gcloud a  # if not bound yet"
    assert Enable(A).dry_run_line() == "gcloud a  # only the ones not enabled yet"
    assert Update(A, "if it differs").dry_run_line() == "gcloud a  # if it differs"


def test_a_resource_is_created_when_missing_and_left_alone_when_found():
    email = "sa-one@p.iam.gserviceaccount.com"
    account = service_account("p", email, "pipelines", "runs things")
    describe = ("iam", "service-accounts", "describe", email, "--project", "p", "--format=json")
    assert [c.args for c in account.looks({})] == [describe]
    created = account.decide(_answers(account, Looked(False)), {})
    assert [(type(c), c.command.args) for c in created.changes] == [
        (
            Create,
            (
                "iam",
                "service-accounts",
                "create",
                "sa-one",
                "--project",
                "p",
                "--display-name=churn pipelines",
                "--description=runs things",
            ),
        )
    ]
    assert created.word == "created"
    kept = account.decide(_answers(account, Looked(True, {"email": email})), {})
    assert (kept.changes, kept.word, kept.detail) == ([], "ok", "exists")
    assert account.possible({}) == created.changes


def test_a_policy_waits_for_what_is_made_later_or_stops_when_its_resource_is_missing():
    target = Address(("run", "services"), "fn", ("--project", "p"), "service fn")
    wanted = [desired.Binding("invoker", EMAIL, "roles/run.invoker", "calls it")]
    waiting = Policy(target, wanted, waits_for="the function fn")
    outcome = waiting.decide(_answers(waiting, Looked(False)), {})
    assert isinstance(outcome, Waiting) and outcome.detail == "the function fn does not exist yet"
    assert Report(outcomes=[Outcome(), outcome]).any(Waiting)
    assert not Report(outcomes=[Outcome()]).any(Waiting)
    stops = Policy(target, wanted)
    with pytest.raises(LookupError, match="service fn does not exist"):
        stops.decide(_answers(stops, Looked(False)), {})
    granted = stops.decide(_answers(stops, Looked(True, {"bindings": []})), {})
    assert granted.changes == stops.possible({})
    assert [type(c) for c in granted.changes] == [Grant]


def test_a_deleted_custom_role_is_undeleted_before_it_is_updated():
    step = custom_role("p", desired.TRIGGER_ROLE)
    held = {"includedPermissions": list(desired.TRIGGER_ROLE.wanted()), "deleted": True}
    outcome = step.decide(_answers(step, Looked(True, held)), {})
    assert [(type(c), c.command.args[2]) for c in outcome.changes] == [
        (Undelete, "undelete"),
        (Update, "update"),
    ]
    assert outcome.word == "updated"


def test_the_dry_run_prints_looks_then_changes_with_their_conditions():
    dep = load(ENVIRONMENTS, "dev").deployment
    assert (dep.project, dep.alerts_topic_id) == ("acme-churn-dev", "churn-alerts")
    lines: list[str] = []
    count = dry_run(alert_steps(dep), lines.append)
    topic = "gcloud pubsub topics {} churn-alerts --project acme-churn-dev"
    members = [
        f"--member=serviceAccount:churn-{who}@acme-churn-dev.iam.gserviceaccount.com"
        for who in ("pipelines", "trigger")
    ]
    assert lines == [
        "# alerts topic projects/acme-churn-dev/topics/churn-alerts",
        topic.format("describe") + " --format=json",
        topic.format("create") + "  # if it does not exist",
        "# roles on alerts topic churn-alerts",
        topic.format("get-iam-policy") + " --format=json",
        *(
            f"{topic.format('add-iam-policy-binding')} {member} --role=roles/pubsub.publisher  "
            "# if not bound yet"
            for member in members
        ),
    ]
    assert count == 5
