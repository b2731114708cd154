"""Mirror registry versions into Vertex AI Model Registry (optional, per environment).

The registry on Cloud Storage stays the source of truth (scoring resolves aliases there); this
makes each version visible in the Vertex console: one Vertex model per registry model, one
Vertex version per registry version (its registry id as a version alias, labels linking it to
the pipeline job), and the registry's `champion` mirrored as a version alias. Vertex refuses a
custom model without a serving container, so this runs only where an environment names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.naming import label_value
from model_registry.registry import VersionInfo

FRAMEWORK_LABEL = "spark-mllib"


@dataclass(frozen=True)
class VertexTarget:
    """Where and how versions are uploaded."""

    project: str
    region: str
    serving_image: str

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def model_resource(self, model: str) -> str:
        return f"{self.parent}/models/{model_id(model)}"


def model_id(model: str) -> str:
    """The Vertex model id of a registry model (registry names already fit [a-z][a-z0-9-]*)."""
    return model.replace("-", "_")


def model_client(region: str, emulator_host: str = "") -> Any:
    """A real aiplatform_v1 ModelServiceClient: regional endpoint, or plain gRPC to a fake."""
    from google.cloud import aiplatform_v1

    if emulator_host:
        import grpc
        from google.cloud.aiplatform_v1.services.model_service.transports.grpc import (
            ModelServiceGrpcTransport,
        )

        channel = grpc.insecure_channel(emulator_host)
        return aiplatform_v1.ModelServiceClient(
            transport=ModelServiceGrpcTransport(channel=channel)
        )
    return aiplatform_v1.ModelServiceClient(
        client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"}
    )


def upload_version(
    client: Any, target: VertexTarget, info: VersionInfo, *, pipeline_job: str = ""
) -> str:
    """Upload `info` as a Vertex model version; returns `models/<id>@<version id>`.

    Idempotent: a version already carrying the registry id as an alias is returned as it is.
    The first upload creates the model; when two runs race to create it, the loser uploads its
    version under the winner's model.
    """
    from google.api_core import exceptions
    from google.cloud.aiplatform_v1.types import Model, ModelContainerSpec, UploadModelRequest

    resource = target.model_resource(info.model)
    try:
        found = client.get_model(name=f"{resource}@{info.version}")
        return f"{resource}@{found.version_id}"
    except exceptions.NotFound:
        pass
    metrics = info.key_metrics()
    model = Model(
        display_name=info.model,
        description=f"{info.model}: Spark ML pipeline model from the churn registry",
        version_description=", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
        artifact_uri=info.uri,
        container_spec=ModelContainerSpec(image_uri=target.serving_image),
        version_aliases=[info.version],
        labels={
            "framework": FRAMEWORK_LABEL,
            "registry-version": label_value(info.version),
            "pipeline-job": label_value(pipeline_job or info.manifest.created_by) or "manual",
        },
    )
    exists = True
    try:
        client.get_model(name=resource)
    except exceptions.NotFound:
        exists = False
    request = UploadModelRequest(parent=target.parent, model=model)
    if exists:
        request.parent_model = resource
    else:
        request.model_id = model_id(info.model)
    try:
        done = client.upload_model(request=request).result()
    except exceptions.AlreadyExists:
        # Another run created the model between our GetModel and UploadModel.
        request = UploadModelRequest(parent=target.parent, model=model, parent_model=resource)
        done = client.upload_model(request=request).result()
    return f"{done.model}@{done.model_version_id}"


def mirror_alias(
    client: Any, target: VertexTarget, model: str, version: str, alias: str = "champion"
) -> str:
    """Give `alias` to the Vertex version of registry `version` (taken from whoever had it)."""
    resource = target.model_resource(model)
    found = client.get_model(name=f"{resource}@{version}")
    client.merge_version_aliases(name=f"{resource}@{found.version_id}", version_aliases=[alias])
    return f"{resource}@{found.version_id}"
