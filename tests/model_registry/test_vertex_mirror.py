"""Mirroring registry versions into Vertex AI Model Registry: the real aiplatform_v1
ModelServiceClient over gRPC against fakes/model_service.py; the registry on the GCS emulator."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions

from fakes.model_service import fake_model_service
from model_registry.vertex import VertexTarget, mirror_alias, model_client, upload_version

from .conftest import MODELS_BUCKET, WORK_BUCKET, Backend

TARGET = VertexTarget("acme-churn-dev", "europe-west4", "europe-docker.pkg.dev/x/serve:1")
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def vertex_host():
    with fake_model_service() as (fake, host):
        yield fake, host


@pytest.fixture
def vertex(vertex_host):
    fake, host = vertex_host
    return fake, model_client("europe-west4", emulator_host=host)


@pytest.fixture
def versions(gcs):
    backend = Backend(
        "gcs", f"gs://{MODELS_BUCKET}/registry", f"gs://{WORK_BUCKET}/runs", client=gcs
    )
    registry = backend.registry()
    return [
        registry.register(
            "churn",
            backend.trained(f"job-{i}", 0.6 + i / 100),
            pipeline_job=f"dev-churn-training-weekly-2026113{i}t020000z",
            now=T0 + timedelta(days=i),
        )
        for i in range(3)
    ]


def test_versions_land_under_one_model_with_lineage_labels(vertex, versions):
    fake, client = vertex
    names = [upload_version(client, TARGET, info) for info in versions]
    resource = f"{TARGET.parent}/models/churn"
    assert names == [f"{resource}@1", f"{resource}@2", f"{resource}@3"]
    stored = fake.versions(resource)
    assert [v.version_aliases[0] for v in stored] == [v.version for v in versions]
    assert "default" in stored[0].version_aliases
    first = stored[0]
    assert first.artifact_uri == versions[0].uri
    assert first.labels["framework"] == "spark-mllib"
    assert first.labels["pipeline-job"] == "dev-churn-training-weekly-20261130t020000z"
    assert first.labels["registry-version"] == versions[0].version
    assert "auc_pr 0.6000" in first.version_description


def test_uploading_a_version_again_does_not_duplicate_it(vertex, versions):
    fake, client = vertex
    first = upload_version(client, TARGET, versions[0])
    assert upload_version(client, TARGET, versions[0]) == first
    assert fake.calls["UploadModel"] == 1


def test_champion_is_mirrored_as_a_version_alias_and_moves(vertex, versions):
    fake, client = vertex
    for info in versions:
        upload_version(client, TARGET, info)
    mirror_alias(client, TARGET, "churn", versions[1].version)
    mirror_alias(client, TARGET, "churn", versions[2].version)
    resource = f"{TARGET.parent}/models/churn"
    holders = [v.version_id for v in fake.versions(resource) if "champion" in v.version_aliases]
    assert holders == ["3"]
    assert client.get_model(name=f"{resource}@champion").version_id == "3"


def test_racing_first_uploads_end_in_one_model(vertex, versions):
    fake, client = vertex
    results: list[str] = []
    start = threading.Barrier(2)

    def upload(info):
        start.wait()
        results.append(upload_version(client, TARGET, info))

    threads = [threading.Thread(target=upload, args=(v,)) for v in versions[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.rsplit("@", 1)[1] for r in results) == ["1", "2"]
    assert list(fake.models) == [f"{TARGET.parent}/models/churn"]


def test_the_fake_keeps_the_services_rules(vertex, versions):
    _, client = vertex
    no_image = VertexTarget(TARGET.project, TARGET.region, "")
    with pytest.raises(exceptions.InvalidArgument, match=r"container_spec\.image_uri"):
        upload_version(client, no_image, versions[0])
    with pytest.raises(exceptions.NotFound):
        client.get_model(name=f"{TARGET.parent}/models/churn@champion")
    upload_version(client, TARGET, versions[0])
    with pytest.raises(exceptions.InvalidArgument, match="default alias cannot be removed"):
        client.merge_version_aliases(
            name=f"{TARGET.parent}/models/churn@1", version_aliases=["-default"]
        )
    with pytest.raises(exceptions.InvalidArgument, match="must match"):
        client.merge_version_aliases(
            name=f"{TARGET.parent}/models/churn@1", version_aliases=["Champion!"]
        )


def test_the_pipeline_step_mirrors_a_promoted_version_and_skips_without_an_image(
    vertex_host, versions, monkeypatch
):
    from components.registry_steps import mirror_to_vertex

    fake, host = vertex_host
    monkeypatch.setenv("AIPLATFORM_EMULATOR_HOST", host)
    models_uri = f"gs://{MODELS_BUCKET}/registry"
    step = {
        "project": TARGET.project,
        "region": TARGET.region,
        "models_uri": models_uri,
        "model_name": "churn",
        "pipeline_job": "dev-churn-training-weekly-20261130t020000z",
    }
    assert (
        mirror_to_vertex.python_func(
            serving_image="", version=versions[0].version, promoted=True, **step
        )
        == ""
    )
    assert fake.calls.get("UploadModel", 0) == 0
    kept = mirror_to_vertex.python_func(
        serving_image=TARGET.serving_image, version=versions[0].version, promoted=False, **step
    )
    promoted = mirror_to_vertex.python_func(
        serving_image=TARGET.serving_image, version=versions[1].version, promoted=True, **step
    )
    resource = f"{TARGET.parent}/models/churn"
    assert (kept, promoted) == (f"{resource}@1", f"{resource}@2")
    holders = [v.version_id for v in fake.versions(resource) if "champion" in v.version_aliases]
    assert holders == ["2"]
