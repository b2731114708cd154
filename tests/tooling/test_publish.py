"""compile.py --publish against a GCS emulator, through the real google-cloud-storage client."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from google.cloud import storage

from fakes.gcs import gcs_emulator

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "acme-pipelines"
BASE = f"gs://{BUCKET}/churn"
IMAGE = "europe-west4-docker.pkg.dev/acme-churn-test/churn/components@sha256:" + "ab" * 32
ENVIRONMENT = {
    "project": "acme-churn-test",
    "region": "europe-west4",
    "trigger_url": "https://trigger.example/",
    "template_base": BASE,
    "pipeline_root": "gs://acme-pipeline-runs/runs",
    "job_prefix": "test-",
    "service_accounts": {
        "pipelines": "churn-pipelines@acme-churn-test.iam.gserviceaccount.com",
        "invoker": "churn-scheduler@acme-churn-test.iam.gserviceaccount.com",
        "trigger": "churn-trigger@acme-churn-test.iam.gserviceaccount.com",
    },
    "locations": {
        "data": "gs://acme-churn-test-data",
        "predictions": "gs://acme-churn-test-results/predictions",
        "models": "gs://acme-churn-test-models",
    },
    "dataproc": {"runtime_version": "2.3", "subnetwork": "churn-dataproc"},
}


@pytest.fixture(scope="module")
def emulator():
    with gcs_emulator(buckets=(BUCKET,)) as host:
        yield host


@pytest.fixture(autouse=True)
def _environments(environments, monkeypatch):
    monkeypatch.setenv("CHURN_TEST_ENVIRONMENTS", str(environments))


@pytest.fixture
def bucket(emulator):
    client = storage.Client(project="test-project")
    bucket = client.bucket(BUCKET)
    for blob in list(client.list_blobs(BUCKET)):
        blob.delete()
    return bucket


@pytest.fixture(scope="module")
def environments(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("environments")
    (folder / "test.yaml").write_text(yaml.safe_dump(ENVIRONMENT))
    return folder


def publish(emulator: str, *args: str, env_name: str = "test") -> subprocess.CompletedProcess:
    env = {**os.environ, "STORAGE_EMULATOR_HOST": emulator}
    folder = Path(os.environ["CHURN_TEST_ENVIRONMENTS"])
    fixed = ["--env", env_name, "--environments-dir", str(folder)]
    if "--components-image" not in args:
        fixed += ["--components-image", IMAGE]
    return subprocess.run(
        [sys.executable, "compile.py", "--publish", *fixed, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def listing(bucket) -> dict[str, str]:
    return {b.name: b.md5_hash for b in bucket.client.list_blobs(BUCKET)}


def test_publish_lands_templates_and_code_under_the_version_and_moves_latest(emulator, bucket):
    done = publish(emulator, "--version", "v1.0.0")
    assert done.returncode == 0, done.stderr
    names = set(listing(bucket))
    assert {
        "churn/v1.0.0/templates/churn-training.yaml",
        "churn/v1.0.0/templates/churn-scoring.yaml",
        "churn/v1.0.0/spark/churn.zip",
        "churn/v1.0.0/manifest.json",
        "churn/latest.json",
    } <= names
    jobs = {n.rsplit("/", 1)[1] for n in names if n.startswith("churn/v1.0.0/spark/")}
    assert {"preprocess.py", "train.py", "tune.py", "score.py"} <= jobs
    assert json.loads(bucket.blob("churn/latest.json").download_as_text()) == {"version": "v1.0.0"}

    template = yaml.safe_load(
        bucket.blob("churn/v1.0.0/templates/churn-training.yaml").download_as_text()
    )
    declared = template["root"]["inputDefinitions"]["parameters"]
    assert declared["spark_code_uri"]["defaultValue"] == f"{BASE}/v1.0.0/spark"
    # the environment's deployment-owned values are the defaults the trigger cannot override
    assert declared["data_uri"]["defaultValue"] == "gs://acme-churn-test-data"
    assert declared["models_uri"]["defaultValue"] == "gs://acme-churn-test-models"
    assert declared["environment"]["defaultValue"] == "test"
    assert declared["runtime_version"]["defaultValue"] == "2.3"
    assert (
        declared["service_account"]["defaultValue"] == ENVIRONMENT["service_accounts"]["pipelines"]
    )
    assert declared["subnetwork_uri"]["defaultValue"] == (
        "projects/acme-churn-test/regions/europe-west4/subnetworks/churn-dataproc"
    )
    assert template["defaultPipelineRoot"] == "gs://acme-pipeline-runs/runs"
    images = {
        e["container"]["image"]
        for e in template["deploymentSpec"]["executors"].values()
        if "container" in e
    }
    assert IMAGE in images and "churn-components:unpublished" not in images
    assert all(i == IMAGE or i.startswith("gcr.io/ml-pipeline/") for i in images)

    archive = zipfile.ZipFile(
        io.BytesIO(bucket.blob("churn/v1.0.0/spark/churn.zip").download_as_bytes())
    )
    assert "churn/__init__.py" in archive.namelist()
    manifest = json.loads(bucket.blob("churn/v1.0.0/manifest.json").download_as_text())
    assert manifest["version"] == "v1.0.0"
    assert set(manifest["files"]) == {
        n.removeprefix("churn/v1.0.0/")
        for n in names
        if n.startswith("churn/v1.0.0/") and not n.endswith("manifest.json")
    }


def test_an_existing_version_is_not_overwritten_unless_forced(emulator, bucket):
    assert publish(emulator, "--version", "v1").returncode == 0
    assert publish(emulator, "--version", "v2").returncode == 0
    before = listing(bucket)

    again = publish(emulator, "--version", "v1")
    assert again.returncode == 1
    assert "version 'v1' already exists" in again.stderr and "--force" in again.stderr
    assert listing(bucket) == before
    assert json.loads(bucket.blob("churn/latest.json").download_as_text())["version"] == "v2"

    forced = publish(emulator, "--version", "v1", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(bucket.blob("churn/latest.json").download_as_text())["version"] == "v1"


def test_publishing_is_byte_identical_for_the_same_code(emulator, bucket):
    assert publish(emulator, "--version", "a").returncode == 0
    assert publish(emulator, "--version", "b").returncode == 0
    blobs = listing(bucket)
    for name, md5 in blobs.items():
        if name.startswith("churn/a/") and "/templates/" not in name and "manifest" not in name:
            assert blobs[name.replace("churn/a/", "churn/b/")] == md5, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--version", "latest"], "not 'latest'"),
        (["--version", "../v1"], "--version '../v1'"),
        (["--version", "a..b"], "--version 'a..b' is not a version tag"),
        (["--version", "v1", "--components-image", "python:3.11-slim"], "expected REGION-docker"),
        (
            [
                "--version",
                "v1",
                "--components-image",
                IMAGE.replace("acme-churn-test", "acme-churn-prod"),
            ],
            "not environment 'test''s 'acme-churn-test'",
        ),
    ],
)
def test_bad_publish_arguments_write_nothing(emulator, bucket, args, message):
    done = publish(emulator, *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert listing(bucket) == {}


def test_publish_without_version_is_a_usage_error(emulator, bucket):
    done = publish(emulator)
    assert done.returncode == 2 and "--publish needs --env, --version" in done.stderr


def test_an_unknown_or_broken_environment_writes_nothing(emulator, bucket, environments):
    done = publish(emulator, "--version", "v1", env_name="nope")
    assert done.returncode == 1 and "--env 'nope'" in done.stderr and "known: " in done.stderr
    broken = {**ENVIRONMENT, "service_accounts": {**ENVIRONMENT["service_accounts"]}}
    broken["service_accounts"]["pipelines"] = "runner@acme-churn-prod.iam.gserviceaccount.com"
    (environments / "broken.yaml").write_text(yaml.safe_dump(broken))
    done = publish(emulator, "--version", "v1", env_name="broken")
    assert done.returncode == 1
    assert "service_accounts.pipelines" in done.stderr and "acme-churn-prod" in done.stderr
    assert listing(bucket) == {}


@pytest.fixture
def registry():
    from fakes.kfp_registry import kfp_registry

    with kfp_registry() as served:
        yield served


def test_publish_to_a_pipeline_registry_tags_the_version_and_moves_latest(
    emulator, bucket, registry
):
    store, host = registry
    assert publish(emulator, "--version", "v1", "--registry", host).returncode == 0
    done = publish(emulator, "--version", "v2", "--registry", host)
    assert done.returncode == 0, done.stderr
    for package in ("churn-training", "churn-scoring"):
        assert store.tags[(package, "latest")] == store.tags[(package, "v2")]
        assert store.tags[(package, "v1")] != store.tags[(package, "v2")]
        served = yaml.safe_load(store.tag_target(package, "v2"))
        code = served["root"]["inputDefinitions"]["parameters"]["spark_code_uri"]["defaultValue"]
        assert code == f"{BASE}/v2/spark"  # the registry's template runs v2's code on GCS
        gcs = bucket.blob(f"churn/v2/templates/{package}.yaml").download_as_bytes()
        assert store.tag_target(package, "v2") == gcs


def test_an_existing_registry_version_is_refused_before_anything_is_written(
    emulator, bucket, registry
):
    store, host = registry
    assert publish(emulator, "--version", "v1", "--registry", host).returncode == 0
    bucket.blob("churn/v1/manifest.json").delete()  # GCS alone would accept v1 again
    before_gcs, before_tags = listing(bucket), dict(store.tags)
    done = publish(emulator, "--version", "v1", "--registry", host)
    assert done.returncode == 1
    assert "already exists in" in done.stderr and "churn-training" in done.stderr
    assert listing(bucket) == before_gcs and store.tags == before_tags

    forced = publish(emulator, "--version", "v1", "--registry", host, "--force")
    assert forced.returncode == 0, forced.stderr
