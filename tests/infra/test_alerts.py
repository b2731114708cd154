"""The failure-alerts topic: created when the environment names one, publishers granted on it only.

Expected roles are written out here (issue 13 item 6, infra brief) rather than taken from
infra.desired, so a change there that drops or widens a grant fails these tests.
"""

from __future__ import annotations

from tests.infra.conftest import ENVIRONMENTS, dry_run_lines, run_steps

PROJECT = "acme-churn-dev"
TOPIC = "churn-alerts"
PIPELINES = "serviceAccount:churn-pipelines@acme-churn-dev.iam.gserviceaccount.com"
TRIGGER = "serviceAccount:churn-trigger@acme-churn-dev.iam.gserviceaccount.com"
INVOKER = "serviceAccount:churn-scheduler@acme-churn-dev.iam.gserviceaccount.com"
PUBLISHER = "roles/pubsub.publisher"


def _pubsub(calls: list[list[str]]) -> list[list[str]]:
    return [argv for argv in calls if argv[:1] == ["pubsub"]]


def _held(policy: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for binding in policy.get("bindings", []):
        for member in binding["members"]:
            out.setdefault(member, set()).add(binding["role"])
    return out


def _without_alerts(tmp_path):
    text = (ENVIRONMENTS / "dev.yaml").read_text()
    assert "alerts:\n  pubsub_topic: churn-alerts\n" in text
    (tmp_path / "dev.yaml").write_text(text.replace("alerts:\n  pubsub_topic: churn-alerts\n", ""))
    return tmp_path


def test_first_run_creates_the_topic_and_grants_both_senders_on_it(runs):
    first = runs.first()
    out = first.out
    assert first.code == 0, first.err
    project = first.state["projects"][PROJECT]
    assert "pubsub.googleapis.com" in project["services"]
    assert list(project["topics"]) == [TOPIC]
    # Exactly publisher for the two senders, nobody else (the invoker never publishes).
    assert _held(project["topics"][TOPIC]["policy"]) == {
        PIPELINES: {PUBLISHER},
        TRIGGER: {PUBLISHER},
    }
    # No Pub/Sub role on the project: it would reach every topic of the project.
    project_roles = set().union(*_held(project["policy"]).values())
    assert not {role for role in project_roles if role.startswith("roles/pubsub.")}
    assert f"created  alerts topic projects/{PROJECT}/topics/{TOPIC}" in out
    assert f"granted  roles on alerts topic {TOPIC}" in out
    # The topic is created before its policy is read, and both after Pub/Sub is enabled.
    calls = [e["argv"] for e in first.log]
    enable = next(i for i, a in enumerate(calls) if a[:2] == ["services", "enable"])
    create = calls.index(["pubsub", "topics", "create", TOPIC, "--project", PROJECT])
    first_policy = next(
        i for i, a in enumerate(calls) if a[:3] == ["pubsub", "topics", "get-iam-policy"]
    )
    assert enable < create < first_policy
    assert "pubsub.googleapis.com" in calls[enable]


def test_second_run_only_looks_at_the_topic(runs):
    second = runs.second()
    out = second.out
    assert second.code == 0
    assert second.changes() == []
    assert _pubsub([e["argv"] for e in second.log]) == [
        ["pubsub", "topics", "describe", TOPIC, "--project", PROJECT, "--format=json"],
        ["pubsub", "topics", "get-iam-policy", TOPIC, "--project", PROJECT, "--format=json"],
    ]
    assert f"ok       alerts topic projects/{PROJECT}/topics/{TOPIC}: exists" in out
    assert f"ok       roles on alerts topic {TOPIC}: 2 binding(s) in place" in out


def test_an_existing_topic_is_kept_and_only_the_missing_publisher_is_granted(set_up):
    # Someone created the topic by hand and granted the trigger; a subscriber binding is theirs.
    cloud = set_up
    cloud.edit(
        lambda s: s["projects"][PROJECT]["topics"].update(
            {
                TOPIC: {
                    "policy": {
                        "bindings": [
                            {"role": PUBLISHER, "members": [TRIGGER]},
                            {
                                "role": "roles/pubsub.subscriber",
                                "members": ["user:ops@example.com"],
                            },
                        ]
                    }
                }
            }
        )
    )
    code, out, err = cloud.bootstrap("--env", "dev")
    assert code == 0, err
    changed = _pubsub(cloud.changes())
    assert changed == [
        [
            "pubsub",
            "topics",
            "add-iam-policy-binding",
            TOPIC,
            "--project",
            PROJECT,
            f"--member={PIPELINES}",
            f"--role={PUBLISHER}",
        ]
    ]
    held = _held(cloud.state["projects"][PROJECT]["topics"][TOPIC]["policy"])
    assert held == {
        PIPELINES: {PUBLISHER},
        TRIGGER: {PUBLISHER},
        "user:ops@example.com": {"roles/pubsub.subscriber"},
    }
    assert f"ok       alerts topic projects/{PROJECT}/topics/{TOPIC}: exists" in out


def test_an_account_of_ours_holding_more_on_the_topic_is_reported_not_removed(set_up):
    cloud = set_up
    cloud.edit(
        lambda s: s["projects"][PROJECT]["topics"][TOPIC]["policy"]["bindings"].append(
            {"role": "roles/pubsub.admin", "members": [TRIGGER]}
        )
    )
    report, _ = run_steps(cloud, "alerts topic", "roles on alerts topic")
    out = "\n".join(report.notes)
    assert cloud.changes() == []
    assert (
        f"churn-trigger also holds roles/pubsub.admin on alerts topic {TOPIC}, which this setup "
        "does not grant" in out
    )
    assert (
        f"gcloud pubsub topics remove-iam-policy-binding {TOPIC} --project {PROJECT} "
        f"--member={TRIGGER} --role=roles/pubsub.admin" in out
    )


def test_dry_run_prints_the_topic_commands_and_runs_none(cloud):
    lines = dry_run_lines(cloud)
    block = lines[lines.index(f"# alerts topic projects/{PROJECT}/topics/{TOPIC}") :]
    assert block[1:3] == [
        f"gcloud pubsub topics describe {TOPIC} --project {PROJECT} --format=json",
        f"gcloud pubsub topics create {TOPIC} --project {PROJECT}  # if it does not exist",
    ]
    assert block[3] == f"# roles on alerts topic {TOPIC}"
    for member in (PIPELINES, TRIGGER):
        assert (
            f"gcloud pubsub topics add-iam-policy-binding {TOPIC} --project {PROJECT} "
            f"--member={member} --role={PUBLISHER}  # if not bound yet" in block
        )
    enable = next(line for line in lines if line.startswith("gcloud services enable "))
    assert "pubsub.googleapis.com" in enable.split()


def test_an_environment_without_alerts_gets_no_topic_and_no_pubsub_api(cloud, tmp_path):
    environments = _without_alerts(tmp_path)
    code, out, err = cloud.bootstrap("--env", "dev", environments=environments)
    assert code == 0, err
    project = cloud.state["projects"][PROJECT]
    assert project["topics"] == {}
    assert "pubsub.googleapis.com" not in project["services"]
    assert _pubsub([e["argv"] for e in cloud.log()]) == []
    assert "alerts topic" not in out
    assert "ALERTS_TOPIC" not in out
    code, out, _ = cloud.bootstrap("--env", "dev", "--dry-run", environments=environments)
    assert code == 0
    assert "pubsub" not in out


def test_a_topic_describe_gcloud_refuses_stops_the_run_before_any_create(set_up, monkeypatch):
    # Pub/Sub disabled again by hand between the enable and the look: the refusal is not
    # "missing", so the setup stops instead of trying to create the topic.
    cloud = set_up
    cloud.edit(
        lambda s: (
            s["projects"][PROJECT]["services"].remove("pubsub.googleapis.com")
            or s["projects"][PROJECT]["topics"].clear()
        )
    )
    monkeypatch.setattr("infra.plan.desired.apis", lambda dep: {})
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "gcloud pubsub topics describe churn-alerts" in err
    assert "pubsub.googleapis.com has not been used" in err
    assert not [argv for argv in _pubsub(cloud.changes()) if "create" in argv]
