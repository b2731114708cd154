"""contract.deployment and contract.ownership: what an environment file decides, and who may set
which parameter."""

from pathlib import Path

import pytest
import yaml

from contract.deployment import cross_environment_problems, deployment_from
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
    deployment, problems = deployment_from(name, data)
    assert (deployment is None) == bool(problems)
    return {p.path: p.message for p in problems}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_shipped_environments_are_valid_and_give_every_deployment_parameter(name):
    deployment, problems = deployment_from(name, shipped(name))
    assert problems == []
    defaults = deployment.parameter_defaults()
    assert set(defaults) | {"spark_code_uri"} == DEPLOYMENT_PARAMETERS
    assert defaults["environment"] == name and defaults["project"] == f"acme-churn-{name}"
    assert defaults["service_account"] == deployment.service_accounts["pipelines"]
    assert defaults["bq_dataset"] == f"acme-churn-{name}.churn_{name}"
    assert defaults["subnetwork_uri"].startswith(f"projects/acme-churn-{name}/regions/")


def test_dev_and_prod_share_no_project_and_no_bucket():
    deployments = [deployment_from(n, shipped(n))[0] for n in ("dev", "prod")]
    assert cross_environment_problems(deployments) == []
    leaky = shipped("dev")
    leaky["locations"]["models"] = shipped("prod")["locations"]["models"]
    leaked = [deployment_from("dev", leaky)[0], deployments[1]]
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
    deployment, problems = deployment_from(
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
