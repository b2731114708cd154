"""contract.environment and contract.ownership: what an environment file decides, and who may set
which parameter."""

from pathlib import Path

import pytest
import yaml

from contract.environment import KEYS, cross_environment_problems, environment_from
from contract.ownership import (
    DEPLOYMENT_PARAMETERS,
    check_relative_path,
    join_location,
    refusal,
)

ROOT = Path(__file__).resolve().parents[2]


def shipped(name: str) -> dict:
    return yaml.safe_load((ROOT / "schedules/environments" / f"{name}.yaml").read_text())


def problems_of(name: str, data: dict) -> dict[tuple[str, ...], str]:
    deployment, problems = environment_from(name, data)
    assert (deployment is None) == bool(problems)
    return {p.path: p.message for p in problems}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_shipped_environments_are_valid_and_give_every_deployment_parameter(name):
    deployment, problems = environment_from(name, shipped(name))
    assert problems == []
    defaults = deployment.parameter_defaults()
    assert set(defaults) | {"spark_code_uri"} == DEPLOYMENT_PARAMETERS
    assert defaults["environment"] == name and defaults["project"] == f"acme-churn-{name}"
    assert defaults["service_account"] == deployment.service_accounts["pipelines"]
    assert defaults["bq_dataset"] == f"acme-churn-{name}.churn_{name}"
    assert defaults["subnetwork_uri"].startswith(f"projects/acme-churn-{name}/regions/")


def test_dev_and_prod_share_no_project_and_no_bucket():
    deployments = [environment_from(n, shipped(n))[0] for n in ("dev", "prod")]
    assert cross_environment_problems(deployments) == []
    leaky = shipped("dev")
    leaky["locations"]["models"] = shipped("prod")["locations"]["models"]
    leaked = [environment_from("dev", leaky)[0], deployments[1]]
    found = cross_environment_problems(leaked)
    assert found and "also used by environment" in found[0][1].message


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("pipeline_root", "pipeline_root"),
        ("models", "locations.models"),
        ("data", "locations.data"),
        ("predictions", "locations.predictions"),
    ],
)
def test_the_template_bucket_is_shared_with_no_other_use(key, where):
    data = shipped("dev")
    bucket = data["template_base"].removeprefix("gs://").split("/")[0]
    if key == "pipeline_root":
        data["pipeline_root"] = f"gs://{bucket}/runs"
    else:
        data["locations"] = {**data["locations"], key: f"gs://{bucket}/{key}"}
    message = problems_of("dev", data)[("template_base",)]
    assert f"bucket '{bucket}' also holds {where}" in message
    assert "a bucket of their own" in message


def test_an_account_of_another_project_is_refused():
    data = shipped("dev")
    data["service_accounts"]["pipelines"] = (
        "dataproc-runner@acme-churn-prod.iam.gserviceaccount.com"
    )
    found = problems_of("dev", data)
    assert "acme-churn-prod" in found[("service_accounts", "pipelines")]


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("bigquery_dataset", "churn-dev", ("bigquery_dataset",)),
        (
            "vertex_model_registry",
            {"serving_image": "not an image"},
            ("vertex_model_registry", "serving_image"),
        ),
        ("vertex_model_registry", {"image": "x"}, ("vertex_model_registry", "image")),
        ("template_base", "gs://acme-churn-dev-templates/../prod", ("template_base",)),
        ("template_base", "gs://", ("template_base",)),
    ],
)
def test_bad_optional_and_location_settings_name_their_key(key, value, path):
    data = {**shipped("dev"), key: value}
    assert path in problems_of("dev", data)


def test_a_serving_image_enables_the_vertex_mirror():
    image = "europe-west4-docker.pkg.dev/acme-churn-dev/churn/spark-serving@sha256:" + "c" * 64
    deployment, problems = environment_from(
        "dev", {**shipped("dev"), "vertex_model_registry": {"serving_image": image}}
    )
    assert problems == [] and deployment.parameter_defaults()["serving_image"] == image


@pytest.mark.parametrize(
    "image",
    [
        "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest",
        "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest",
        "asia-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest",
        "us-docker.pkg.dev/vertex-ai/prediction/pytorch-gpu.2-1:latest",
        "us-docker.pkg.dev/vertex-ai-restricted/prediction/sklearn-cpu.1-0:latest",
        "gcr.io/cloud-aiplatform/prediction/tf2-cpu.2-1:latest",
    ],
)
def test_a_prebuilt_prediction_image_is_refused_as_serving_image(image):
    data = {**shipped("dev"), "vertex_model_registry": {"serving_image": image}}
    found = problems_of("dev", data)
    message = found[("vertex_model_registry", "serving_image")]
    assert "prebuilt prediction containers" in message and "Spark MLlib" in message


@pytest.mark.parametrize("name", sorted(DEPLOYMENT_PARAMETERS))
def test_every_deployment_parameter_is_refused_to_callers(name):
    assert "belongs to the deployment" in refusal(name)


def test_schedule_parameters_are_not_refused():
    assert refusal("gate_threshold") is None and refusal("raw_data_path") is None


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "gs://other/raw.csv",
        "../prod/raw.csv",
        "raw/../x",
        "raw//x",
        "a\\b",
        "a\x00",
    ],
)
def test_unsafe_relative_paths_are_refused(path):
    assert check_relative_path(path) is not None
    with pytest.raises(ValueError, match="path"):
        join_location("gs://acme-churn-dev-data", path)


def test_a_safe_path_joins_under_the_location():
    assert join_location("gs://acme-churn-dev-data/", "raw/2026-11-30/customers.csv") == (
        "gs://acme-churn-dev-data/raw/2026-11-30/customers.csv"
    )


@pytest.mark.parametrize("key", KEYS)
def test_every_key_of_the_file_is_checked_by_the_one_model(key):
    # A value of the wrong shape is refused under its own key, whichever key it is: no key of the
    # file is left for another reader to check (or to read unchecked).
    found = problems_of("dev", {**shipped("dev"), key: [1, 2]})
    assert any(path[:1] == (key,) for path in found), found


def test_an_unknown_key_is_refused_with_the_closest_known_one():
    found = problems_of("dev", {**shipped("dev"), "job_prefx": "dev-"})
    assert "did you mean 'job_prefix'?" in found[("job_prefx",)]


def test_the_model_holds_the_keys_the_jobs_need():
    env, _ = environment_from("dev", {**shipped("dev"), "parameters": {"seed": 7}})
    assert env.trigger_url == "https://churn-trigger-123456789012.europe-west4.run.app"
    assert env.job_prefix == "dev-"
    assert env.parameters == {"seed": 7}
    assert env.parent == "projects/acme-churn-dev/locations/europe-west4"
    assert env.invoker_service_account == "churn-scheduler@acme-churn-dev.iam.gserviceaccount.com"


def test_without_trigger_url_the_file_is_still_a_model():
    # The setup's first run comes before the trigger exists; the reconciler asks for the URL.
    data = {k: v for k, v in shipped("dev").items() if k != "trigger_url"}
    env, problems = environment_from("dev", data)
    assert problems == [] and env.trigger_url == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://churn-trigger-123456789012.europe-west4.run.app",
        "https://europe-west4-acme-churn-dev.cloudfunctions.net/churn-trigger",
        "https://trigger.example:8443/run",
        "http://127.0.0.1:8080/",
        "http://localhost:9000",
    ],
)
def test_a_trigger_url_cloud_scheduler_and_cloud_run_take_is_accepted(url):
    env, problems = environment_from("dev", {**shipped("dev"), "trigger_url": url})
    assert problems == [] and env.trigger_url == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://nope", "write https://HOST"),
        ("http://churn-trigger.example.com", "plain http only to 127.0.0.1 or localhost"),
        ("https://user@trigger.example", "without user"),
        ("https://trigger.example/run?x=1", "query"),
        ("https://trigger.example/run#x", "fragment"),
        ("https://-trigger.example", "is not a host name"),
        ("https://trigger..example", "is not a host name"),
        ("https://trigger.example:70000", "port 70000 is outside 1-65535"),
        ("https://trigger.example/" + "a" * 2100, "Cloud Scheduler takes at most 2083"),
        ("https://trigger example", "write https://HOST"),
        ("", "must be a non-empty string"),
        (42, "must be a non-empty string"),
    ],
)
def test_a_trigger_url_that_cannot_be_the_jobs_target_is_refused(url, why):
    message = problems_of("dev", {**shipped("dev"), "trigger_url": url})[("trigger_url",)]
    assert why in message


@pytest.mark.parametrize("prefix", ["dev 1", "dev/", 7])
def test_a_job_prefix_outside_cloud_schedulers_job_id_characters_is_refused(prefix):
    found = problems_of("dev", {**shipped("dev"), "job_prefix": prefix})
    assert "may only use letters, digits" in found[("job_prefix",)]


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("service_account", "x@acme-churn-dev.iam.gserviceaccount.com", "deployment"),
        ("fire_time", "2026-01-01T00:00:00Z", "set by the trigger"),
        ("raw_data_path", "../prod/raw.csv", "raw_data_path"),
        ("raw_data_path", "raw/{fire_dat}/x.csv", "fire_dat"),
    ],
)
def test_default_parameters_are_held_to_the_rules_of_a_schedules_own(name, value, why):
    found = problems_of("dev", {**shipped("dev"), "parameters": {name: value}})
    assert why in found[("parameters", name)]
