"""Pure logic of the trigger: request checks, job ids, labels, template resolution, settings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from settings import Settings
from template_store import (
    ObjectNotFoundError,
    TemplateStore,
    parse_base,
    published_pipelines,
    ref_from_uri,
)
from trigger_request import (
    TriggerError,
    build_fire,
    check_content_type,
    job_id_for,
    job_labels,
    parse_body,
)

VERTEX_ID = re.compile(r"[a-z][-a-z0-9]{0,126}")
LABEL = re.compile(r"[a-z0-9_-]{0,63}")
BASE = parse_base("gs://acme/pipelines")
TEMPLATE = b"""
pipelineInfo: {name: churn-training}
root:
  inputDefinitions:
    parameters:
      raw_data_path: {parameterType: STRING}
"""


def fire_for(schedule: str | None, when: str | None = "2026-11-30T02:00:00Z"):
    body = {"pipeline": "churn-training", "parameters": {}}
    if schedule is not None:
        body["schedule"] = schedule
    return build_fire(body, when, None)


def test_job_id_is_schedule_plus_fire_time_in_utc():
    fire = fire_for("Weekly_Retrain", "2026-11-30T03:00:00+01:00")

    assert job_id_for(fire, "dev") == "dev-weekly-retrain-20261130t020000z"


def test_the_same_fire_always_gets_the_same_id_and_manual_calls_never_do():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    assert job_id_for(fire_for("s"), "dev") == job_id_for(fire_for("s"), "dev")
    assert job_id_for(fire_for("s"), "dev") != job_id_for(fire_for("s"), "prod")
    manual = fire_for("s", when=None)
    assert job_id_for(manual, "dev", now, "aaaaaa") == "dev-s-manual-20261126t120000z-aaaaaa"
    assert job_id_for(manual, "dev") != job_id_for(manual, "dev")


@given(st.text(min_size=1, max_size=300).filter(lambda s: any(c.isalnum() for c in s.lower())))
def test_job_ids_and_labels_are_always_valid(schedule):
    try:
        fire = fire_for(schedule)
    except TriggerError as err:  # names with no ASCII letter or digit are refused, clearly
        assert err.status == 400 and "no letters or digits" in err.message
        return

    assert VERTEX_ID.fullmatch(job_id_for(fire, "prod"))
    assert len(job_id_for(fire, "prod")) < 128
    labels = job_labels(fire, "prod", "v1")
    assert all(LABEL.fullmatch(v) and LABEL.fullmatch(k) for k, v in labels.items())
    assert labels["environment"] == "prod"
    assert labels["fire-time"] == "20261130t020000z"


def test_long_names_are_cut_with_a_hash_so_they_stay_distinct():
    a = fire_for("x" * 200 + "a")
    b = fire_for("x" * 200 + "b")

    assert job_id_for(a, "dev") != job_id_for(b, "dev")
    assert len(job_id_for(a, "dev")) == 127


def test_the_schedule_falls_back_to_the_scheduler_job_name():
    fire = build_fire(
        {"pipeline": "p"}, "2026-11-30T02:00:00Z", "projects/p/locations/l/jobs/nightly"
    )

    assert fire.schedule == "nightly"
    assert fire.template == "latest"


def test_a_scheduled_call_needs_a_schedule_name():
    with pytest.raises(TriggerError, match="needs field 'schedule'"):
        build_fire({"pipeline": "p"}, "2026-11-30T02:00:00Z", None)


def test_every_body_problem_is_reported_at_once():
    with pytest.raises(TriggerError) as err:
        build_fire({"template": 3, "parameters": [], "extra": 1}, None, None)

    message = err.value.message
    for part in ("'extra'", "'pipeline' is required", "'template' must be", "'parameters' must"):
        assert part in message
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"NaN", "NaN is not valid JSON"),
        (b'{"a": 1', "line 1 column 8"),
        (b"\xff\xfe\x00", "body is not"),
        (b"  ", "body is empty"),
    ],
)
def test_bodies_that_are_not_json_objects(data, message):
    with pytest.raises(TriggerError, match=message):
        parse_body(data)


def test_content_type_may_carry_a_charset_but_must_be_json():
    check_content_type("application/json")
    with pytest.raises(TriggerError) as err:
        check_content_type("application/x-www-form-urlencoded")
    assert err.value.status == 415


@pytest.mark.parametrize(
    ("uri", "version"),
    [
        ("gs://acme/pipelines/v3/templates/churn-training.yaml", "v3"),
        ("gs://acme/pipelines//v3/./templates/churn-training.yaml", "v3"),
    ],
)
def test_uris_under_the_base_are_accepted(uri, version):
    assert ref_from_uri(BASE, uri).version == version


@pytest.mark.parametrize(
    "uri",
    [
        "gs://acme/pipelines/adhoc/churn-training.yaml",
        "gs://acme/pipelines/latest.json",
        "gs://acme/pipelines/v1/manifest.json",
        "gs://acme/pipelines/v1/spark/churn.zip",
        "gs://acme/pipelines/v1/templates/churn-training.json",
        "gs://acme/pipelines/v1+b/templates/churn-training.yaml",
    ],
)
def test_objects_under_the_base_that_are_not_published_templates_are_refused(uri):
    with pytest.raises(TriggerError, match="is not a published template") as err:
        ref_from_uri(BASE, uri)
    assert err.value.status == 400


@pytest.mark.parametrize(
    "uri",
    [
        "gs://acme/pipelines/../secrets/churn-training.yaml",
        "gs://acme/pipelines/v1/../../x.yaml",
        "gs://acme/pipelinesx/v1/templates/churn-training.yaml",
        "gs://acme/churn-training.yaml",
        "gs://other/pipelines/v1/templates/churn-training.yaml",
        "file:///etc/passwd",
    ],
)
def test_uris_outside_the_base_are_forbidden(uri):
    with pytest.raises(TriggerError) as err:
        ref_from_uri(BASE, uri)
    assert err.value.status == 403


class Bucket:
    """Objects in memory, read through the same callable shape as the GCS reader."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def __call__(self, bucket: str, path: str) -> bytes:
        try:
            return self.objects[f"{bucket}/{path}"]
        except KeyError:
            raise ObjectNotFoundError(path) from None


def test_templates_are_cached_by_uri_and_latest_only_for_its_ttl():
    now = [0.0]
    bucket = Bucket(
        {
            "acme/pipelines/latest.json": b'{"version": "v1"}',
            "acme/pipelines/v1/templates/churn-training.yaml": TEMPLATE,
            "acme/pipelines/v2/templates/churn-training.yaml": TEMPLATE,
        }
    )
    store = TemplateStore(BASE, bucket, latest_ttl=60, clock=lambda: now[0])

    first = store.load(store.resolve("latest", "churn-training"))
    again = store.load(store.resolve("latest", "churn-training"))
    assert again is first
    assert store.reads == 2  # latest.json + the template, once each

    bucket.objects["acme/pipelines/latest.json"] = b'{"version": "v2"}'
    now[0] = 30
    assert store.resolve("latest", "churn-training").version == "v1"
    now[0] = 61
    assert store.resolve("latest", "churn-training").version == "v2"
    assert list(store.load(store.resolve("latest", "churn-training")).decls) == ["raw_data_path"]


@pytest.mark.parametrize(
    ("objects", "status", "message"),
    [
        ({}, 404, "no published 'latest' under gs://acme/pipelines/"),
        ({"acme/pipelines/latest.json": b"[]"}, 500, "is malformed"),
        ({"acme/pipelines/latest.json": b'{"version": "../x"}'}, 500, "is not a version tag"),
        (
            {
                "acme/pipelines/latest.json": b'{"version": "v1"}',
                "acme/pipelines/v1/templates/churn-training.yaml": b"just: text",
            },
            500,
            "is not a compiled KFP pipeline",
        ),
    ],
)
def test_broken_publications_are_named(objects, status, message):
    store = TemplateStore(BASE, Bucket(objects))

    with pytest.raises(TriggerError, match=message) as err:
        store.load(store.resolve("latest", "churn-training"))
    assert err.value.status == status


GOOD_ENV = {
    "GOOGLE_CLOUD_PROJECT": "p",
    "REGION": "europe-west4",
    "ENVIRONMENT": "dev",
    "TEMPLATE_BASE": "gs://b/t/",
    "PIPELINE_ROOT": "gs://acme-dev-runs/root/",
    "PIPELINE_SERVICE_ACCOUNT": "churn-pipelines@acme-dev.iam.gserviceaccount.com",
    "SCHEDULER_INVOKER": "churn-scheduler@acme-dev.iam.gserviceaccount.com",
}


def test_settings_name_every_missing_or_wrong_variable():
    with pytest.raises(ValueError) as err:
        Settings.from_env(
            {
                "TEMPLATE_BASE": "s3://x",
                "MAX_BODY_BYTES": "lots",
                "ENVIRONMENT": "Dev!",
                "PIPELINE_SERVICE_ACCOUNT": "123-compute@developer.gserviceaccount.com",
                "MANUAL_RUNS": "maybe",
            }
        )

    for part in (
        "PROJECT is not set",
        "REGION is not set",
        "ENVIRONMENT 'Dev!' is not an environment name",
        "TEMPLATE_BASE must be a gs:// URI",
        "PIPELINE_ROOT is not set",
        "PIPELINE_SERVICE_ACCOUNT '123-compute@developer.gserviceaccount.com' is not a service",
        "SCHEDULER_INVOKER is not set",
        "MANUAL_RUNS must be 'allow' or 'deny'",
        "MAX_BODY_BYTES",
    ):
        assert part in str(err.value)


def test_settings_defaults():
    settings = Settings.from_env(GOOD_ENV)

    assert settings.project == "p"
    assert settings.environment == "dev"
    assert settings.base.uri == "gs://b/t"
    assert settings.pipeline_root == "gs://acme-dev-runs/root"
    assert (settings.lease_bucket, settings.lease_prefix) == (
        "acme-dev-runs",
        "root/trigger-leases",
    )
    assert settings.manual_runs is True
    assert settings.max_body_bytes == 65536
    assert settings.latest_ttl == 60


@pytest.mark.parametrize(
    ("error", "status", "outcome"),
    [
        ("ServiceUnavailable", 503, "transient"),
        ("DeadlineExceeded", 503, "transient"),
        ("TooManyRequests", 503, "transient"),
        ("InternalServerError", 503, "transient"),
        ("Forbidden", 502, "error"),
        ("InvalidArgument", 502, "error"),
    ],
)
def test_google_errors_map_to_answers_cloud_scheduler_acts_on(error, status, outcome):
    from gcp_clients import upstream_error
    from google.api_core import exceptions as gexc

    answer = upstream_error(getattr(gexc, error)("boom"), "creating the PipelineJob")

    assert (answer.status, answer.outcome) == (status, outcome)
    assert answer.message.startswith("creating the PipelineJob: ")
    assert "boom" in answer.message


def test_connection_failures_are_transient():
    from gcp_clients import upstream_error
    from google.api_core.exceptions import RetryError

    assert upstream_error(ConnectionRefusedError("refused"), "reading").status == 503
    assert upstream_error(RetryError("gave up", None), "reading").status == 503


@pytest.mark.parametrize("name", ["SCHEDULER_INVOKER", "PIPELINE_SERVICE_ACCOUNT"])
def test_service_account_settings_must_be_lower_case_as_google_issues_them(name):
    env = {**GOOD_ENV, name: GOOD_ENV[name].replace("churn", "Churn")}

    with pytest.raises(ValueError, match=f"{name} '.*' must be written in lower case"):
        Settings.from_env(env)
    with pytest.raises(ValueError, match=f"(?s){name} '.*' is not"):
        Settings.from_env({**GOOD_ENV, name: GOOD_ENV[name] + "\n"})


def test_the_published_pipelines_are_read_from_the_manifest():
    manifest = {
        "version": "v1",
        "files": {
            "templates/churn-training.yaml": "a",
            "templates/churn-scoring.yaml": "b",
            "spark/train.py": "c",
            "templates/Upper.yaml": "d",
            "templates/x/y.yaml": "e",
        },
    }
    assert published_pipelines(json.dumps(manifest).encode()) == ["churn-scoring", "churn-training"]
    for broken in (b"[]", b"{}", b"not json", b'{"files": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        assert published_pipelines(broken) == []
