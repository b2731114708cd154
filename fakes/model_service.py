"""An in-process fake of Vertex AI's ModelService (google.cloud.aiplatform.v1) over gRPC.

The real `aiplatform_v1.ModelServiceClient` talks to it over plain-text gRPC with the library's
own request and response types. Rules kept from the real service (API reference, "Model
Registry" and "model version aliases" pages):

- UploadModel: `parent` is projects/*/locations/*; `model.display_name` and
  `model.container_spec.image_uri` are required (a custom model cannot be uploaded without a
  serving container); `artifact_uri`, when set, is a gs:// directory; `model_id` is at most 63
  of [a-z0-9_-], not starting with a digit or '-', and ALREADY_EXISTS when taken;
  `parent_model` (a new version) must exist (NOT_FOUND). Version ids count 1, 2, ...; the
  first version gets the `default` alias. Aliases match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9] and
  are not numeric; an alias given to one version leaves the version that had it. The answer is
  a long-running Operation, already done, whose response is an UploadModelResponse (the
  client's `.result()` unpacks it without polling).
- GetModel: `models/M`, `models/M@<version id>` or `models/M@<alias>`; NOT_FOUND otherwise.
- MergeVersionAliases: `name` must name a version (`@<version id>`); `-alias` removes; the
  `default` alias cannot be removed (one version always carries it).
- Labels: at most 64, keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import ClassVar

import grpc
from google.cloud.aiplatform_v1.types import model as model_types
from google.cloud.aiplatform_v1.types import model_service as ms
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, timestamp_pb2

from fakes.base import LOCALHOST, GrpcFake, Method, RpcError, serve

SERVICE = "google.cloud.aiplatform.v1.ModelService"

_PARENT = re.compile(r"projects/[^/]+/locations/[^/]+")
_MODEL_ID = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
_ALIAS = re.compile(r"[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_MAX_LABELS = 64
DEFAULT_ALIAS = "default"


class FakeModelService(GrpcFake):
    """State of the fake: models by resource name, each a list of versions (Model messages)."""

    SERVICE: ClassVar[str] = SERVICE

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, list[model_types.Model]] = {}
        self._operations = 0

    # --- helpers ---------------------------------------------------------------------------

    def versions(self, model_name: str) -> list[model_types.Model]:
        """Every version of a model (copies), oldest first."""
        return [model_types.Model(v) for v in self.models.get(model_name, [])]

    def _find(self, name: str) -> tuple[str, model_types.Model]:
        base, _, selector = name.partition("@")
        versions = self.models.get(base)
        if not versions:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Model {base} not found")
        if not selector:
            selector = DEFAULT_ALIAS
        for version in versions:
            if version.version_id == selector or selector in version.version_aliases:
                return base, version
        raise RpcError(grpc.StatusCode.NOT_FOUND, f"Model version {name} not found")

    @staticmethod
    def _check_aliases(aliases) -> None:
        for alias in aliases:
            bare = alias[1:] if alias.startswith("-") else alias
            if not _ALIAS.fullmatch(bare) or bare.isdigit():
                raise RpcError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"version alias {alias!r} must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9]",
                )

    @staticmethod
    def _check_labels(labels) -> None:
        if len(labels) > _MAX_LABELS:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"at most {_MAX_LABELS} labels")
        for key, value in labels.items():
            if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
                raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid label {key}={value}")

    @staticmethod
    def _take_aliases(versions: list[model_types.Model], aliases: list[str]) -> None:
        """Aliases are unique within a model: giving one to a version takes it from the rest."""
        for version in versions:
            kept = [a for a in version.version_aliases if a not in aliases]
            if len(kept) != len(version.version_aliases):
                version.version_aliases = kept

    # --- RPCs ------------------------------------------------------------------------------

    def _check_upload(self, request: ms.UploadModelRequest, model: model_types.Model) -> None:
        """Refuse an upload the real service refuses, in the order it checks."""
        if not _PARENT.fullmatch(request.parent):
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid parent '{request.parent}'")
        if not model.display_name:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "model.display_name is required")
        if not model.container_spec.image_uri:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "model.container_spec.image_uri is required to upload a custom model",
            )
        if model.artifact_uri and not model.artifact_uri.startswith("gs://"):
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"model.artifact_uri '{model.artifact_uri}' must be a Cloud Storage directory",
            )
        self._check_aliases(model.version_aliases)
        if any(a.startswith("-") for a in model.version_aliases):
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "cannot remove aliases on upload")
        self._check_labels(model.labels)

    def _upload_target(self, request: ms.UploadModelRequest) -> str:
        """The model an upload adds a version to, created when new; call with the lock held."""
        if request.parent_model:
            name = request.parent_model
            if not name.startswith(request.parent + "/models/") or name not in self.models:
                raise RpcError(grpc.StatusCode.NOT_FOUND, f"parent model {name} not found")
            return name
        model_id = request.model_id or f"m{len(self.models) + 1}"
        if not _MODEL_ID.fullmatch(model_id) or model_id[0] == "_":
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid model_id {model_id}")
        name = f"{request.parent}/models/{model_id}"
        if name in self.models:
            raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f"Model {name} already exists")
        self.models[name] = []
        return name

    def upload_model(self, request: ms.UploadModelRequest) -> operations_pb2.Operation:
        model = model_types.Model(request.model)
        self._check_upload(request, model)
        with self.lock:
            name = self._upload_target(request)
            versions = self.models[name]
            aliases = list(model.version_aliases)
            if not versions:
                aliases.append(DEFAULT_ALIAS)
            self._take_aliases(versions, aliases)
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
            model.name = name
            model.version_id = str(len(versions) + 1)
            model.version_aliases = aliases
            model.version_create_time = now
            model.create_time = versions[0].create_time if versions else now
            versions.append(model)
            self._operations += 1
            response = ms.UploadModelResponse(model=name, model_version_id=model.version_id)
        packed = any_pb2.Any()
        packed.Pack(ms.UploadModelResponse.pb(response))
        metadata = any_pb2.Any()
        metadata.Pack(ms.UploadModelOperationMetadata.pb(ms.UploadModelOperationMetadata()))
        return operations_pb2.Operation(
            name=f"{request.parent}/models/{name.rsplit('/', 1)[1]}/operations/{self._operations}",
            done=True,
            response=packed,
            metadata=metadata,
        )

    def get_model(self, request: ms.GetModelRequest) -> model_types.Model:
        with self.lock:
            _, version = self._find(request.name)
            return model_types.Model(version)

    def merge_version_aliases(self, request: ms.MergeVersionAliasesRequest) -> model_types.Model:
        if "@" not in request.name:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "name must include @<version id>")
        self._check_aliases(request.version_aliases)
        with self.lock:
            base, version = self._find(request.name)
            adds = [a for a in request.version_aliases if not a.startswith("-")]
            removes = [a[1:] for a in request.version_aliases if a.startswith("-")]
            if DEFAULT_ALIAS in removes:
                raise RpcError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "the default alias cannot be removed; give it to another version instead",
                )
            self._take_aliases(self.models[base], adds)
            version.version_aliases = [
                a for a in [*version.version_aliases, *adds] if a not in removes
            ]
            return model_types.Model(version)

    # --- wiring ----------------------------------------------------------------------------

    def methods(self) -> dict[str, Method]:
        return {
            "UploadModel": Method.of(
                self.upload_model, ms.UploadModelRequest, operations_pb2.Operation
            ),
            "GetModel": Method.of(self.get_model, ms.GetModelRequest, model_types.Model),
            "MergeVersionAliases": Method.of(
                self.merge_version_aliases, ms.MergeVersionAliasesRequest, model_types.Model
            ),
        }


def fake_model_service(
    host: str = LOCALHOST,
) -> AbstractContextManager[tuple[FakeModelService, str]]:
    """Serve a fresh fake on a free port; yields (fake, "host:port")."""
    return serve(FakeModelService(), 0, host)
