"""Hostile and mistaken calls (issue 10 A1, A2, B): each a clear 4xx, and nothing created.

Over real HTTP to the function served by functions-framework, with templates published for
environment `test` by the real `compile.py --publish`.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import yaml

from contract.ownership import DEPLOYMENT_PARAMETERS
from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
FIRE = "2026-11-30T02:00:00Z"
PARAMS = {"raw_data_path": "raw/latest.csv", "gate_threshold": 0.6}
JOB = f"projects/{h.PROJECT}/locations/{h.REGION}/jobs/{h.ENV}-{SCHEDULE}"


@pytest.fixture(autouse=True)
def _fresh_leases(no_leases) -> None:
    """No slot of any schedule is taken when a test starts."""


def body(**changes) -> dict:
    out = {"pipeline": h.PIPELINE, "template": "latest", "parameters": dict(PARAMS)}
    out["schedule"] = SCHEDULE
    out.update(changes)
    return out


def post(url: str, data, headers: dict | None = None) -> requests.Response:
    """POST `data` (a dict, or raw JSON text) as Cloud Scheduler would, unless `headers`."""
    if headers is None:
        headers = h.scheduler_headers(JOB, FIRE)
    text = data if isinstance(data, str) else json.dumps(data)
    return requests.post(
        url, data=text.encode("utf-8", "surrogatepass"), headers=headers, timeout=30
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# name -> (raw body or dict, extra headers, status, part of the error message)
HOSTILE = {
    "fire time before year 1 in UTC": (
        body(),
        {"X-CloudScheduler-ScheduleTime": "0001-01-01T00:00:00+01:00"},
        400,
        "outside the years 1-9999",
    ),
    "fire time after year 9999 in UTC": (
        body(),
        {"X-CloudScheduler-ScheduleTime": "9999-12-31T23:59:59-01:00"},
        400,
        "outside the years 1-9999",
    ),
    "max_concurrent_runs above int32": (
        body(max_concurrent_runs=2147483648),
        {},
        400,
        "'max_concurrent_runs' must be an integer from 1 to 1000",
    ),
    "lone surrogate in a parameter": (
        json.dumps(body()).replace("raw/latest.csv", "raw/\\ud800.csv"),
        {},
        400,
        "field 'parameters'.raw_data_path: contains a lone UTF-16 surrogate",
    ),
    "lone surrogate in a key": (
        json.dumps(body()).replace('"gate_threshold"', '"gate\\udfff"'),
        {},
        400,
        "lone UTF-16 surrogate",
    ),
    "400-digit integer in a struct": (
        json.dumps(body()).replace(
            '"gate_threshold": 0.6', '"spark_properties": {"a": 1' + "0" * 399 + "}"
        ),
        {},
        400,
        "integer with over 100 digits is outside ±2**53",
    ),
    "structure nested 33 deep": (
        json.dumps(body()).replace("0.6", nested(33)),
        {},
        400,
        "levels deep; at most 18",
    ),
    "structure nested 1000 deep in an unknown field": (
        json.dumps(body()).replace('"template"', f'"extra": {nested(1000)}, "template"'),
        {},
        400,
        "body nests 1001 levels deep",
    ),
    "template naming latest.json": (
        body(template=f"{h.BASE}/latest.json"),
        {},
        400,
        "is not a published template",
    ),
    "template naming a manifest": (
        body(template=f"{h.BASE}/v1/manifest.json"),
        {},
        400,
        "is not a published template",
    ),
    "template naming the Spark package": (
        body(template=f"{h.BASE}/v1/spark/churn.zip"),
        {},
        400,
        "is not a published template",
    ),
    "version tag with a plus": (body(template="v1+build"), {}, 400, "is not a version tag"),
    "version tag with ..": (body(template="a..b"), {}, 400, "'a..b' is not a version tag"),
    "template URI with a .. version": (
        body(template=f"{h.BASE}/a..b/templates/{h.PIPELINE}.yaml"),
        {},
        400,
        "is not a published template",
    ),
    "1e300 for an integer": (
        body(parameters={**PARAMS, "seed": 1e300}),
        {},
        400,
        "parameter 'seed': integer 1e+300 is outside ±2**53",
    ),
    "integer above 2**53": (
        body(parameters={**PARAMS, "seed": 2**53 + 1}),
        {},
        400,
        "field 'parameters'.seed: integer with 16 digits is outside ±2**53",
    ),
    "Infinity inside a struct": (
        json.dumps(body()).replace("0.6", '{"a": Infinity}'),
        {},
        400,
        "Infinity is not valid JSON",
    ),
    "1e999 inside a struct": (
        json.dumps(body()).replace("0.6", '{"a": 1e999}'),
        {},
        400,
        "number 1e999 is too large for a double",
    ),
    "schedule name with no letters": (body(schedule="___"), {}, 400, "no letters or digits"),
    "time zone in the wrong case": (
        body(time_zone="europe/amsterdam"),
        {},
        400,
        "field 'time_zone': time zone 'europe/amsterdam' is not written as the tz database",
    ),
    "pipeline name with a path in it": (
        body(pipeline="../churn-training"),
        {},
        400,
        "field 'pipeline': '../churn-training' is not a pipeline name",
    ),
    "utc in lower case": (body(time_zone="utc"), {}, 400, "time zone 'utc': write 'UTC'"),
}
# Parameters only the deployment sets (issue 10 A1): each refused by name, whatever its value.
_ATTACKS = {
    "spark_code_uri": "gs://attacker-bucket/code",
    "container_image": "docker.io/attacker/evil:latest",
    "service_account": f"other@{h.PROJECT}.iam.gserviceaccount.com",
    "spark_properties": {"spark.jars": "gs://attacker/evil.jar"},
    "data_uri": "gs://acme-prod-data",
    "environment": "prod",
}
for _name in sorted(DEPLOYMENT_PARAMETERS):
    _value = _ATTACKS.get(_name, "gs://attacker/elsewhere")
    HOSTILE[f"body sets {_name}"] = (
        body(parameters={**PARAMS, _name: _value}),
        {},
        400,
        f"parameter '{_name}': '{_name}' belongs to the deployment",
    )
for _path in ("gs://attacker/raw.csv", "../prod-data/raw.csv", "/raw.csv", "raw//x.csv"):
    HOSTILE[f"raw_data_path {_path}"] = (
        body(parameters={**PARAMS, "raw_data_path": _path}),
        {},
        400,
        "parameter 'raw_data_path': ",
    )


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_a_clear_4xx_and_creates_nothing(case, function_url, vertex):
    data, extra, status, message = HOSTILE[case]
    headers = {**h.scheduler_headers(JOB, FIRE), **extra}

    resp = post(function_url, data, headers)

    assert resp.status_code == status, resp.text
    assert message in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0


def test_deployment_values_come_from_the_published_template_only(function_url, vertex):
    resp = post(function_url, body())

    assert resp.status_code == 200, resp.text
    [job] = vertex.created()
    values = dict(job.runtime_config.parameter_values)
    assert set(values) - set(PARAMS) == {"fire_time"}  # set by the trigger from the fire
    assert {k: values[k] for k in PARAMS} == PARAMS
    declared = job.pipeline_spec["root"]["inputDefinitions"]["parameters"]
    assert declared["data_uri"]["defaultValue"] == h.ENVIRONMENT["locations"]["data"]
    assert declared["service_account"]["defaultValue"] == h.RUNNER
    assert declared["environment"]["defaultValue"] == h.ENV
    assert declared["spark_code_uri"]["defaultValue"] == f"{h.BASE}/v2/spark"


def test_scheduler_headers_from_another_account_are_refused(function_url, vertex):
    headers = h.scheduler_headers(JOB, FIRE, caller=f"intruder@{h.PROJECT}.iam.gserviceaccount.com")

    resp = post(function_url, body(), headers)

    assert resp.status_code == 403
    assert f"only accepted from the scheduler account {h.INVOKER}" in resp.json()["error"]
    assert "'intruder@test-project.iam.gserviceaccount.com' sent them" in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0


def test_scheduler_headers_without_a_token_are_refused(function_url, vertex):
    headers = h.scheduler_headers(JOB, FIRE)
    del headers["Authorization"]

    resp = post(function_url, body(), headers)

    assert resp.status_code == 403
    assert "a caller without an OIDC token e-mail sent them" in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0


def test_a_token_that_is_not_a_jwt_is_refused(function_url, vertex):
    headers = {**h.scheduler_headers(JOB, FIRE), "Authorization": "Bearer not-a-jwt"}

    resp = post(function_url, body(), headers)

    assert resp.status_code == 401
    assert "not a JWT" in resp.json()["error"]


def test_a_manual_call_gets_its_own_id_and_cannot_claim_a_fire(function_url, vertex):
    someone = f"data-scientist@{h.PROJECT}.iam.gserviceaccount.com"
    headers = {"Content-Type": "application/json", "Authorization": h.bearer(someone)}

    resp = post(function_url, body(), headers)

    assert resp.status_code == 200, resp.text
    assert resp.json()["job_id"].startswith(f"{h.ENV}-{SCHEDULE}-manual-")
    [job] = vertex.created()
    assert job.labels["trigger"] == "manual"
    assert "fire-time" not in job.labels


def test_a_template_published_for_another_environment_is_not_run(function_url, vertex):
    spec = yaml.safe_load(h.read_object(f"pipelines/v1/templates/{h.PIPELINE}.yaml"))
    spec["root"]["inputDefinitions"]["parameters"]["environment"]["defaultValue"] = "prod"
    h.upload(f"pipelines/v9prod/templates/{h.PIPELINE}.yaml", yaml.safe_dump(spec).encode())

    resp = post(function_url, body(template="v9prod"))

    assert resp.status_code == 500
    assert "was published for environment 'prod', and this trigger serves 'test'" in resp.text
    assert vertex.calls["CreatePipelineJob"] == 0


def _answer_within(url: str, head: bytes, first_part: bytes, seconds: float) -> bytes:
    """Send a request's head and the first part of its body, never the rest; what the server
    answers within `seconds` (b'' if nothing)."""
    host, port = url.split("//", 1)[1].strip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=seconds) as sock:
        sock.sendall(head + b"\r\n" + first_part)
        received = b""
        deadline = time.monotonic() + seconds
        while b"\r\n\r\n" not in received and time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
        return received


def _head(framing: str, caller: str = h.INVOKER) -> bytes:
    lines = [
        "POST / HTTP/1.1",
        "Host: trigger.example",
        "Content-Type: application/json",
        f"Authorization: {h.bearer(caller)}",
        framing,
    ]
    return "".join(f"{line}\r\n" for line in lines).encode()


def test_a_body_declared_over_the_limit_is_413_before_it_is_read(function_url, vertex):
    started = time.monotonic()

    answer = _answer_within(function_url, _head("Content-Length: 100000000"), b'{"pipe', 5)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3
    assert vertex.calls["CreatePipelineJob"] == 0


def test_a_chunked_body_over_the_limit_is_413_without_waiting_for_its_end(function_url, vertex):
    chunk = b"x" * 70_000
    first = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"  # ... and no terminating chunk

    answer = _answer_within(function_url, _head("Transfer-Encoding: chunked"), first, 5)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert vertex.calls["CreatePipelineJob"] == 0


def test_a_refused_caller_is_answered_without_its_body_being_read(function_url, vertex):
    intruder = f"intruder@{h.PROJECT}.iam.gserviceaccount.com"
    head = _head("Content-Length: 60000", caller=intruder)
    head += b"X-CloudScheduler: true\r\nX-CloudScheduler-JobName: j\r\n"
    head += b"X-CloudScheduler-ScheduleTime: 2026-11-30T02:00:00Z\r\n"

    answer = _answer_within(function_url, head, b'{"pipe', 5)

    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
