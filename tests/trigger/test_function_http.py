"""The trigger function served by functions-framework, called over real HTTP.

Templates come from `compile.py --publish` into a GCS emulator; the function's real
aiplatform_v1 client talks gRPC to the in-process fake PipelineService.
"""

from __future__ import annotations

import json

import grpc
import pytest
import requests
import yaml

from tests.trigger import trigger_harness as h

SCHEDULE = "churn-weekly-retrain"
FIRE = "2026-11-30T02:00:00.000Z"
JOB_ID = f"{h.ENV}-churn-weekly-retrain-20261130t020000z"
PARAMS = {"raw_data_path": "raw/latest.csv", "gate_threshold": 0.6}


@pytest.fixture(autouse=True)
def _fresh_leases(no_leases) -> None:
    """Each test starts with no slot of any schedule taken."""


def body(**changes) -> dict:
    out = {"pipeline": h.PIPELINE, "template": "latest", "parameters": dict(PARAMS)}
    out["schedule"] = SCHEDULE
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def fire(url: str, payload=None, when: str = FIRE, **kwargs) -> requests.Response:
    headers = h.scheduler_headers(f"projects/{h.PROJECT}/locations/{h.REGION}/jobs/x", when)
    headers.update(kwargs.pop("headers", {}))
    data = kwargs.pop("data", None)
    if data is None:
        data = json.dumps(body() if payload is None else payload)
    return requests.post(url, data=data, headers=headers, timeout=30, **kwargs)


def published(version: str) -> dict:
    text = h.read_object(f"pipelines/{version}/templates/{h.PIPELINE}.yaml")
    return next(d for d in yaml.safe_load_all(text) if d)


def test_scheduled_fire_creates_one_job_from_the_published_template(
    function_url, vertex, function_log
):
    resp = fire(function_url)

    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["outcome"] == "created"
    assert answer["job"] == f"{h.PARENT}/pipelineJobs/{JOB_ID}"
    assert answer["template_version"] == "v2"  # latest.json points at v2
    [job] = vertex.created()
    assert job.name == answer["job"]
    assert dict(job.pipeline_spec) == published("v2")
    values = dict(job.runtime_config.parameter_values)
    # the template declares fire_time: the trigger sets it to the fire's slot (never the body)
    assert values == {**PARAMS, "fire_time": "2026-11-30T02:00:00Z"}
    assert job.runtime_config.gcs_output_directory == h.PIPELINE_ROOT
    assert job.service_account == h.RUNNER
    assert dict(job.labels) == {
        "environment": h.ENV,
        "schedule": SCHEDULE,
        "fire-time": "20261130t020000z",
        "template-version": "v2",
        "pipeline": h.PIPELINE,
        "trigger": "scheduler",
    }
    line = [entry for entry in h.log_lines(function_log) if entry.get("job_id") == JOB_ID][-1]
    assert line["severity"] == "INFO"
    assert line["outcome"] == "created"
    assert line["schedule"] == SCHEDULE
    assert line["fire_time"] == "2026-11-30T02:00:00Z"
    assert "message" in line


def test_the_log_line_carries_the_trace_of_the_request(function_url, vertex, function_log):
    resp = fire(function_url, headers={"X-Cloud-Trace-Context": "0af7651916cd43dd/1;o=1"})

    assert resp.status_code == 200
    line = h.log_lines(function_log)[-1]
    assert line["logging.googleapis.com/trace"] == f"projects/{h.PROJECT}/traces/0af7651916cd43dd"


def test_redelivery_of_the_same_fire_creates_nothing_new(function_url, vertex):
    first = fire(function_url)
    again = fire(function_url)
    other_fire = fire(function_url, when="2026-12-07T02:00:00Z")

    assert first.json()["outcome"] == "created"
    assert again.status_code == 200
    assert again.json()["outcome"] == "already_exists"
    assert again.json()["job"] == first.json()["job"]
    assert other_fire.json()["outcome"] == "created"
    assert [j.name.rsplit("/", 1)[-1] for j in vertex.created()] == [
        JOB_ID,
        f"{h.ENV}-churn-weekly-retrain-20261207t020000z",
    ]


def test_manual_calls_get_fresh_ids(function_url, vertex):
    headers = {"Content-Type": "application/json"}
    runs = [
        requests.post(function_url, json=body(schedule=None), headers=headers, timeout=30)
        for _ in range(2)
    ]

    assert [r.status_code for r in runs] == [200, 200]
    ids = [r.json()["job_id"] for r in runs]
    assert ids[0] != ids[1]
    assert all(i.startswith(f"{h.ENV}-{h.PIPELINE}-manual-") for i in ids)
    assert [j.labels["trigger"] for j in vertex.created()] == ["manual", "manual"]


def test_a_version_tag_or_a_uri_under_the_base_selects_that_version(function_url, vertex):
    by_tag = fire(function_url, body(template="v1"))
    uri = f"{h.BASE}/v1/templates/{h.PIPELINE}.yaml"
    by_uri = fire(function_url, body(template=uri), when="2026-12-07T02:00:00Z")

    assert by_tag.status_code == 200, by_tag.text
    assert by_uri.status_code == 200, by_uri.text
    assert by_uri.json()["template_uri"] == uri
    assert [j.labels["template-version"] for j in vertex.created()] == ["v1", "v1"]
    assert dict(vertex.created()[0].pipeline_spec) == published("v1")


def test_latest_is_re_resolved_after_a_new_publish(function_url, vertex):
    try:
        h.upload("pipelines/latest.json", b'{"version": "v1"}')
        resp = fire(function_url)
    finally:
        h.upload("pipelines/latest.json", b'{"version": "v2"}')

    assert resp.json()["template_version"] == "v1"
    assert vertex.created()[0].labels["template-version"] == "v1"


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        (b'{"version": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests 100001 levels deep"),
        (b"[" * 5000 + b"]" * 5000, "nests 5000 levels deep"),
        (b'{"version": 7}', "'version' is int, not a string"),
        (b'{"version": {"v": "v1"}}', "'version' is dict, not a string"),
        (b'"v1"', 'is malformed: expected {"version": "..."}'),
        (b'{"version": "v1..v2"}', "'v1..v2' is not a version tag"),
    ],
    ids=["deep inside", "deep", "int", "object", "bare string", "dot dot"],
)
def test_a_tampered_latest_pointer_is_a_clear_json_answer(
    pointer, message, function_url, vertex, function_log
):
    try:
        h.upload("pipelines/latest.json", pointer)
        resp = fire(function_url)
    finally:
        h.upload("pipelines/latest.json", b'{"version": "v2"}')

    assert resp.status_code == 500, resp.text
    assert resp.json()["outcome"] == "error"
    assert "gs://acme-templates/pipelines/latest.json" in resp.json()["error"]
    assert message in resp.json()["error"]
    assert "Traceback" not in resp.text and "internal error" not in resp.text
    line = h.log_lines(function_log)[-1]
    assert "stack_trace" not in line and line["status"] == 500
    assert vertex.calls["CreatePipelineJob"] == 0


def test_a_pipeline_name_in_the_wrong_case_is_400_naming_the_published_pipelines(
    function_url, vertex
):
    resp = fire(function_url, body(pipeline="Churn-Training"))

    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert "field 'pipeline': 'Churn-Training' is not a pipeline name" in error
    assert "version 'v2' publishes: churn-scoring, churn-training" in error
    assert "did you mean 'churn-training'?" in error
    assert vertex.calls["CreatePipelineJob"] == 0


def test_an_unpublished_pipeline_is_404_naming_the_published_ones(function_url, vertex):
    resp = fire(function_url, body(pipeline="churn-forecast", template="v1"))

    assert resp.status_code == 404, resp.text
    assert "version 'v1' publishes: churn-scoring, churn-training" in resp.json()["error"]


# Every bad request: its status, a message naming the problem, and no CreatePipelineJob at all.
BAD_REQUESTS = {
    "garbage body": (dict(data="{not json"), 400, "not valid JSON"),
    "body not an object": (dict(data="[1, 2]"), 400, "must be a JSON object"),
    "empty body": (dict(data=""), 400, "body is empty"),
    "wrong content type": (
        dict(headers={"Content-Type": "text/plain"}),
        415,
        "Content-Type must be application/json",
    ),
    "oversized body": (
        dict(data=json.dumps(body(parameters={"raw_data_path": "x" * 70_000}))),
        413,
        "limit is 65536",
    ),
    "missing pipeline": (dict(payload=body(pipeline=None)), 400, "field 'pipeline' is required"),
    "unknown body field": (dict(payload=body(labels={"a": "b"})), 400, "unknown field(s) 'labels'"),
    "unknown parameter": (
        dict(payload=body(parameters={**PARAMS, "gate_treshold": 0.7})),
        400,
        "parameter 'gate_treshold': not declared by the pipeline; did you mean 'gate_threshold'?",
    ),
    "wrong parameter type": (
        dict(payload=body(parameters={**PARAMS, "gate_threshold": "high"})),
        400,
        "parameter 'gate_threshold': expected number, got string",
    ),
    "tune_folds below 2": (
        dict(payload=body(parameters={**PARAMS, "tune_folds": 1})),
        400,
        "parameter 'tune_folds': must be a whole number from 2 to 20, got 1",
    ),
    "gate_threshold above 1": (
        dict(payload=body(parameters={**PARAMS, "gate_threshold": 60})),
        400,
        "parameter 'gate_threshold': must be a number from 0 to 1, got 60.0",
    ),
    "unknown classifier": (
        dict(payload=body(parameters={**PARAMS, "classifier": "xgb"})),
        400,
        "parameter 'classifier': must be one of lr, gbt, rf, got 'xgb'",
    ),
    "missing required parameter": (
        dict(payload=body(parameters={"gate_threshold": 0.6})),
        400,
        "parameter 'raw_data_path': required by the pipeline",
    ),
    "template in another bucket": (
        dict(payload=body(template=f"gs://other-bucket/pipelines/v1/templates/{h.PIPELINE}.yaml")),
        403,
        "outside the allowed base gs://acme-templates/pipelines/",
    ),
    "template escaping the base with ..": (
        dict(payload=body(template=f"{h.BASE}/../elsewhere/{h.PIPELINE}.yaml")),
        403,
        "'..' is not allowed",
    ),
    "template in a sibling prefix": (
        dict(payload=body(template=f"{h.BASE}-evil/v1/templates/{h.PIPELINE}.yaml")),
        403,
        "outside the allowed base",
    ),
    "template over https": (
        dict(payload=body(template="https://example.com/churn-training.yaml")),
        403,
        "outside the allowed base",
    ),
    "unpublished version": (dict(payload=body(template="v9")), 404, "version 'v9' has no template"),
    "unpublished pipeline": (
        dict(payload=body(pipeline="churn-forecast")),
        404,
        "churn-forecast.yaml not found",
    ),
    "version tag with a slash": (
        dict(payload=body(template="v1/../v2")),
        400,
        "is not a version tag",
    ),
    "pipeline does not match the template": (
        dict(payload=body(pipeline="churn-scoring", template=f"{h.BASE}/v1/templates/x.yaml")),
        400,
        "is pipeline 'churn-training', not 'churn-scoring'",
    ),
    "bad max_concurrent_runs": (
        dict(payload=body(max_concurrent_runs=0)),
        400,
        "'max_concurrent_runs' must be an integer from 1 to 1000",
    ),
    "bad schedule time header": (
        dict(headers={"X-CloudScheduler-ScheduleTime": "next monday"}),
        400,
        "X-CloudScheduler-ScheduleTime is not an RFC 3339 time",
    ),
}


@pytest.fixture(scope="module")
def renamed_template(gcs):
    """A churn-training template published under another file name (for the mismatch case)."""
    h.upload(
        "pipelines/v1/templates/x.yaml", h.read_object(f"pipelines/v1/templates/{h.PIPELINE}.yaml")
    )


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_requests_are_refused_and_create_nothing(
    case, function_url, vertex, renamed_template, function_log
):
    kwargs, status, message = BAD_REQUESTS[case]
    kwargs = dict(kwargs)
    resp = fire(function_url, kwargs.pop("payload", None), **kwargs)

    assert resp.status_code == status, resp.text
    assert message in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0
    assert vertex.created() == []
    last = h.log_lines(function_log)[-1]
    assert (last["status"], last["outcome"]) == (status, "rejected")
    assert message in last["message"]


def test_get_is_not_allowed(function_url, vertex):
    resp = requests.get(function_url, timeout=10)

    assert resp.status_code == 405
    assert "POST" in resp.json()["error"]
    assert vertex.calls["CreatePipelineJob"] == 0


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ],
)
def test_transient_vertex_errors_answer_503_and_the_retry_creates_the_job(
    code, function_url, vertex, function_log
):
    vertex.inject_fault("CreatePipelineJob", code)

    failed = fire(function_url)
    retried = fire(function_url)

    assert failed.status_code == 503
    assert code.name in failed.json()["error"]
    assert h.log_lines(function_log)[-2]["outcome"] == "transient"
    assert retried.status_code == 200
    assert retried.json()["outcome"] == "created"
    assert len(vertex.created()) == 1


def test_a_permanent_vertex_error_is_not_reported_as_transient(function_url, vertex):
    vertex.inject_fault("CreatePipelineJob", grpc.StatusCode.PERMISSION_DENIED, message="no")

    resp = fire(function_url)

    assert resp.status_code == 502
    assert "PERMISSION_DENIED" in resp.json()["error"]
    assert vertex.created() == []


def test_max_concurrent_runs_skips_while_the_schedule_is_busy(function_url, vertex, function_log):
    running = f"{h.ENV}-churn-weekly-retrain-20261123t020000z"
    mine = {"environment": h.ENV, "schedule": SCHEDULE}
    vertex.add_job(h.PARENT, running, mine, "PIPELINE_STATE_RUNNING")
    vertex.add_job(h.PARENT, "other", {**mine, "schedule": "other"}, "PIPELINE_STATE_RUNNING")
    vertex.add_job(h.PARENT, "prod-run", {**mine, "environment": "prod"}, "PIPELINE_STATE_RUNNING")

    skipped = fire(function_url, body(max_concurrent_runs=1))
    allowed_two = fire(function_url, body(max_concurrent_runs=2), when="2026-12-07T02:00:00Z")

    assert skipped.status_code == 200
    assert skipped.json()["outcome"] == "skipped"
    assert "max_concurrent_runs=1" in skipped.json()["message"]
    assert running in skipped.json()["message"]
    assert h.log_lines(function_log)[-2]["outcome"] == "skipped"
    assert allowed_two.json()["outcome"] == "created"
    assert vertex.calls["CreatePipelineJob"] == 1


def test_max_concurrent_runs_counts_only_unfinished_runs(function_url, vertex):
    mine = {"environment": h.ENV, "schedule": SCHEDULE}
    vertex.add_job(h.PARENT, "old", mine, "PIPELINE_STATE_SUCCEEDED")
    vertex.add_job(h.PARENT, "failed", mine, "PIPELINE_STATE_FAILED")

    resp = fire(function_url, body(max_concurrent_runs=1))

    assert resp.json()["outcome"] == "created"


def test_redelivery_while_its_own_run_is_running_reports_the_run_not_a_skip(function_url, vertex):
    first = fire(function_url, body(max_concurrent_runs=1))
    vertex.set_state(JOB_ID, "PIPELINE_STATE_RUNNING")

    again = fire(function_url, body(max_concurrent_runs=1))

    assert first.json()["outcome"] == "created"
    assert again.json()["outcome"] == "already_exists"
    assert again.json()["state"] == "PIPELINE_STATE_RUNNING"
    assert len(vertex.created()) == 1


def test_transient_list_error_answers_503_without_creating(function_url, vertex):
    vertex.inject_fault("ListPipelineJobs", grpc.StatusCode.UNAVAILABLE)

    resp = fire(function_url, body(max_concurrent_runs=1))

    assert resp.status_code == 503
    assert vertex.calls["CreatePipelineJob"] == 0


def test_a_long_schedule_name_still_gives_a_valid_deterministic_id(function_url, vertex):
    name = "nightly-" + "very-long-schedule-name-" * 8
    first = fire(function_url, body(schedule=name))
    again = fire(function_url, body(schedule=name))

    job_id = first.json()["job_id"]
    assert len(job_id) < 128
    assert job_id.endswith("-20261130t020000z")
    assert again.json()["outcome"] == "already_exists"
    assert len(vertex.created()[0].labels["schedule"]) <= 63


def test_a_misconfigured_function_answers_500_naming_every_variable(
    gcs, vertex_server, vertex, tmp_path
):
    env = h.function_env(vertex_server[1], STORAGE_EMULATOR_HOST=gcs, TEMPLATE_BASE="templates")
    for name in ("ENVIRONMENT", "PIPELINE_ROOT", "PIPELINE_SERVICE_ACCOUNT", "SCHEDULER_INVOKER"):
        del env[name]
    log = tmp_path / "function.log"
    with h.serve_function(env, log) as url:
        resp = fire(url)

    assert resp.status_code == 500
    error = resp.json()["error"]
    assert error.startswith("function misconfigured: ")
    for part in (
        "ENVIRONMENT is not set",
        "TEMPLATE_BASE must be a gs:// URI",
        "PIPELINE_ROOT is not set",
        "PIPELINE_SERVICE_ACCOUNT is not set",
        "SCHEDULER_INVOKER is not set",
    ):
        assert part in error
    started, answered = h.log_lines(log)[0], h.log_lines(log)[-1]
    # logged when the instance started, before any call reached it
    assert (started["severity"], started["outcome"]) == ("ERROR", "misconfigured")
    assert answered["severity"] == "ERROR"
    assert vertex.created() == []
