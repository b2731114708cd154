"""`alerts.pubsub_topic` in an environment file: checked at file:line, deployment-owned."""

from __future__ import annotations

import shutil

from scheduling.validate import validate_tree
from tests.scheduling.conftest import REPO


def validate_with(tmp_path, monkeypatch, alerts: str):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "schedules", tmp_path / "schedules")
    path = tmp_path / "schedules" / "environments" / "dev.yaml"
    # the shipped file names a topic: drop its section, then append the one under test
    shipped = path.read_text()
    start = shipped.index("\nalerts:")
    end = shipped.index("\n", shipped.index("pubsub_topic", start))
    path.write_text(shipped[:start] + shipped[end:] + "\n" + alerts)
    return validate_tree("schedules", REPO / "build" / "vertex", only_env="dev")


def test_a_topic_id_becomes_the_deployment_owned_alerts_topic(tmp_path, monkeypatch):
    result = validate_with(tmp_path, monkeypatch, "alerts:\n  pubsub_topic: churn-alerts\n")
    assert result.problems == []
    env = result.environments["dev"]
    assert env.alerts_topic == "projects/acme-churn-dev/topics/churn-alerts"
    assert env.parameter_defaults()["alerts_topic"] == env.alerts_topic


def test_bad_alert_settings_are_named_at_their_line(tmp_path, monkeypatch):
    result = validate_with(
        tmp_path, monkeypatch, "alerts:\n  pubsub_topic: goog-alerts\n  slack: '#oncall'\n"
    )
    messages = [str(p) for p in result.problems]
    lines = (tmp_path / "schedules/environments/dev.yaml").read_text().splitlines()
    topic_line = lines.index("  pubsub_topic: goog-alerts") + 1
    assert any(f"dev.yaml:{topic_line}:" in m and "not a Pub/Sub topic id" in m for m in messages)
    assert any(f"dev.yaml:{topic_line + 1}:" in m and "unknown key 'slack'" in m for m in messages)


def test_no_alerts_section_means_no_alerts(tmp_path, monkeypatch):
    result = validate_with(tmp_path, monkeypatch, "")
    assert result.environments["dev"].alerts_topic == ""
