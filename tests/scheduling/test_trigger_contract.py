"""The request an applied job sends is one the trigger function accepts (the shared contract)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fakes.http_target import RecordingTarget, recording_target
from scheduling.cli import main
from trigger.trigger_request import build_fire, check_content_type, parse_body


@pytest.fixture
def trigger() -> Iterator[tuple[RecordingTarget, str]]:
    with recording_target() as (target, url):
        yield target, f"{url}/"


def test_a_fired_job_is_a_valid_trigger_request(tree, templates_dir, fake, no_sleep, trigger):
    target, url = trigger
    tree.edit(
        "environments/dev.yaml", "https://churn-trigger-123456789012.europe-west4.run.app", url
    )
    assert (
        main(
            ["apply", "--env", "dev", "--auto-approve", "--templates", str(templates_dir)],
            retry=no_sleep,
        )
        == 0
    )
    when = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    delivery = fake.fire("dev-churn-training-weekly", schedule_time=when)
    assert delivery.status == 200
    headers, body = target.received[0].headers, target.received[0].body
    check_content_type(headers["Content-Type"])
    fire = build_fire(
        parse_body(body),
        headers["X-CloudScheduler-ScheduleTime"],
        headers["X-CloudScheduler-JobName"],
    )
    assert fire.pipeline == "churn-training"
    assert fire.template == "latest"
    assert fire.schedule == "churn-training-weekly"
    assert fire.fire_time == when
    assert fire.max_concurrent_runs == 1
    assert fire.parameters["gate_threshold"] == 0.6
    assert headers["X-Managed-By"] == "churn-schedules/dev"
