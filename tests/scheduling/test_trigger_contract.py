"""The request an applied job sends is one the trigger function accepts (the shared contract)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from scheduling.cli import main
from trigger.trigger_request import build_fire, check_content_type, parse_body


class _Capture(BaseHTTPRequestHandler):
    requests: ClassVar[list] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"] or 0)
        _Capture.requests.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def trigger_url():
    _Capture.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_fired_job_is_a_valid_trigger_request(tree, templates_dir, fake, no_sleep, trigger_url):
    tree.edit(
        "environments/dev.yaml",
        "https://churn-trigger-123456789012.europe-west4.run.app",
        trigger_url,
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
    headers, body = _Capture.requests[0]
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
