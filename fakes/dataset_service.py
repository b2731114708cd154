"""An in-process fake of Vertex AI's DatasetService (google.cloud.aiplatform.v1) over gRPC.

The real `aiplatform_v1.DatasetServiceClient` talks to it over plain-text gRPC with the library's
own request/response types. Kept from the real service:

- CreateDataset is a long-running operation: it answers an unfinished Operation (metadata
  `CreateDatasetOperationMetadata`); the dataset exists once `google.longrunning.Operations/
  GetOperation` reports the operation done (response: the Dataset), so a caller that does not
  wait for the operation does not see it;
- INVALID_ARGUMENT for a malformed parent, a missing or over-128-character display_name, an
  unknown metadata_schema_uri, tabular metadata without exactly one of `inputConfig.gcsSource`
  / `inputConfig.bigquerySource` or with a malformed `bq://project.dataset.table` URI, and labels
  outside the rules (<= 64 labels; keys and values <= 64 characters of lowercase letters, digits,
  `_` and `-`; keys start with a letter; `aiplatform.googleapis.com/` keys are reserved);
- GetDataset NOT_FOUND; ListDatasets with the documented filter (`display_name` /
  `displayName` and `metadata_schema_uri` with = and !=, `labels.key=value`, `labels.key:*`,
  `labels:key`, joined with AND) and paging.

Tests inject faults per method (`inject_fault`, fakes.base) and read what was created
(`datasets`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import ClassVar

import grpc
from google.cloud.aiplatform_v1.types import dataset as ds
from google.cloud.aiplatform_v1.types import dataset_service as svc
from google.longrunning import operations_pb2
from google.protobuf import any_pb2, json_format, timestamp_pb2

from fakes.base import LOCALHOST, GrpcFake, Method, RpcError, serve

SERVICE = "google.cloud.aiplatform.v1.DatasetService"
OPERATIONS = "google.longrunning.Operations"
SCHEMA_BASE = "gs://google-cloud-aiplatform/schema/dataset/metadata/"
KNOWN_SCHEMAS = {
    SCHEMA_BASE + f"{kind}_1.0.0.yaml"
    for kind in ("tabular", "image", "text", "video", "time_series")
}
TABULAR = SCHEMA_BASE + "tabular_1.0.0.yaml"
_PARENT = re.compile(r"projects/([^/]+)/locations/([^/]+)")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,64}")
_BQ_URI = re.compile(r"bq://[a-z][a-z0-9-]{4,28}[a-z0-9]\.\w{1,1024}\.[\w-]{1,1024}")
_TERM = re.compile(
    r'\s*(?:(?P<field>[A-Za-z_]+)\s*(?P<op>!=|=)\s*"(?P<value>[^"]*)"'
    r'|labels\.(?P<key>[a-z0-9_-]+|"[^"]+")\s*(?:=\s*"(?P<lvalue>[^"]*)"|:\s*\*)'
    r"|labels\s*:\s*(?P<haskey>[a-z0-9_-]+))\s*"
)


class FakeDatasetService(GrpcFake):
    """State and behaviour of the fake; `serve` (fakes.base) exposes it to a grpc.Server."""

    SERIALIZED: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.datasets: dict[str, ds.Dataset] = {}  # by resource name, in creation order
        self.operations: dict[str, tuple[operations_pb2.Operation, ds.Dataset]] = {}
        self._ids = itertools.count(1000)

    def reset(self) -> None:
        """Forget datasets, operations, calls and faults."""
        with self.lock:
            super().reset()
            self.datasets.clear()
            self.operations.clear()

    # --- methods ------------------------------------------------------------------------------
    def create_dataset(self, request: svc.CreateDatasetRequest) -> operations_pb2.Operation:
        match = _PARENT.fullmatch(request.parent)
        if not match:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid parent '{request.parent}'")
        problem = dataset_problem(request.dataset)
        if problem:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, problem)
        number = next(self._ids)
        dataset = ds.Dataset(request.dataset)
        dataset.name = f"{request.parent}/datasets/{number}"
        now = _now()
        dataset.create_time = now
        dataset.update_time = now
        dataset.etag = f"etag-{number}"
        meta = svc.CreateDatasetOperationMetadata()
        meta.generic_metadata.create_time = now
        operation = operations_pb2.Operation(name=f"{dataset.name}/operations/{number}", done=False)
        operation.metadata.Pack(svc.CreateDatasetOperationMetadata.pb(meta))
        self.operations[operation.name] = (operation, dataset)
        return operation

    def get_operation(
        self, request: operations_pb2.GetOperationRequest
    ) -> operations_pb2.Operation:
        found = self.operations.get(request.name)
        if found is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Operation {request.name} not found")
        operation, dataset = found
        if not operation.done:  # the work finishes by the first poll
            operation.done = True
            packed = any_pb2.Any()
            packed.Pack(ds.Dataset.pb(dataset))
            operation.response.CopyFrom(packed)
            self.datasets[dataset.name] = dataset
        return operation

    def get_dataset(self, request: svc.GetDatasetRequest) -> ds.Dataset:
        found = self.datasets.get(request.name)
        if found is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Dataset {request.name} not found")
        return found

    def list_datasets(self, request: svc.ListDatasetsRequest) -> svc.ListDatasetsResponse:
        if not _PARENT.fullmatch(request.parent):
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid parent '{request.parent}'")
        keep = parse_filter(request.filter)
        prefix = request.parent + "/datasets/"
        matching = [d for n, d in self.datasets.items() if n.startswith(prefix) and keep(d)]
        size = request.page_size or 100
        try:
            start = int(request.page_token or 0)
        except ValueError:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid page_token") from None
        page = matching[start : start + size]
        more = start + size < len(matching)
        return svc.ListDatasetsResponse(
            datasets=page, next_page_token=str(start + size) if more else ""
        )

    # --- wiring -------------------------------------------------------------------------------
    def services(self) -> dict[str, dict[str, Method]]:
        """DatasetService, and the Operations service its long-running operations are read on."""
        operation = operations_pb2.Operation
        dataset = {
            "CreateDataset": Method.of(self.create_dataset, svc.CreateDatasetRequest, operation),
            "GetDataset": Method.of(self.get_dataset, svc.GetDatasetRequest, ds.Dataset),
            "ListDatasets": Method.of(
                self.list_datasets, svc.ListDatasetsRequest, svc.ListDatasetsResponse
            ),
        }
        get = Method.of(self.get_operation, operations_pb2.GetOperationRequest, operation)
        return {SERVICE: dataset, OPERATIONS: {"GetOperation": get}}


def dataset_problem(dataset: ds.Dataset) -> str | None:
    """Why CreateDataset refuses `dataset` (INVALID_ARGUMENT), or None."""
    if not dataset.display_name:
        return "Dataset.display_name is required"
    if len(dataset.display_name) > 128:
        return f"display_name is {len(dataset.display_name)} characters; at most 128"
    if dataset.metadata_schema_uri not in KNOWN_SCHEMAS:
        return f"unsupported metadata_schema_uri '{dataset.metadata_schema_uri}'"
    if len(dataset.labels) > 64:
        return f"at most 64 labels, got {len(dataset.labels)}"
    for key, value in dataset.labels.items():
        if key.startswith("aiplatform.googleapis.com/"):
            return f"label key {key!r} is reserved for the system"
        if not _LABEL_KEY.fullmatch(key):
            return f"invalid label key {key!r}: lowercase letters, digits, _ and -, at most 64"
        if not _LABEL_VALUE.fullmatch(value):
            return f"invalid value of label {key!r}: {value!r}"
    if dataset.metadata_schema_uri == TABULAR:
        return _tabular_problem(dataset)
    return None


def _tabular_problem(dataset: ds.Dataset) -> str | None:
    metadata = json_format.MessageToDict(ds.Dataset.pb(dataset).metadata) or {}
    source = (metadata.get("inputConfig") if isinstance(metadata, dict) else None) or {}
    sources = [k for k in ("gcsSource", "bigquerySource") if k in source]
    if len(sources) != 1:
        return (
            "tabular Dataset.metadata needs exactly one of inputConfig.gcsSource / bigquerySource"
        )
    if sources[0] == "bigquerySource":
        uri = (source["bigquerySource"] or {}).get("uri", "")
        if not _BQ_URI.fullmatch(uri):
            return f"invalid BigQuery source uri '{uri}': expected bq://project.dataset.table"
    return None


def parse_filter(text: str) -> Callable[[ds.Dataset], bool]:
    """A predicate over Datasets for a ListDatasets `filter` ('' matches all)."""
    terms: list[Callable[[ds.Dataset], bool]] = []
    for part in [p for p in re.split(r"\s+AND\s+", text.strip()) if p] if text.strip() else []:
        m = _TERM.fullmatch(part)
        if not m:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid filter: {part!r}")
        terms.append(_term(m))
    return lambda d: all(t(d) for t in terms)


def _term(m: re.Match) -> Callable[[ds.Dataset], bool]:
    if m.group("haskey"):
        key = m.group("haskey")
        return lambda d: key in d.labels
    if m.group("key"):
        key, value = m.group("key").strip('"'), m.group("lvalue")
        if value is None:
            return lambda d: key in d.labels
        return lambda d: d.labels.get(key) == value
    field = {"displayName": "display_name", "metadataSchemaUri": "metadata_schema_uri"}.get(
        m.group("field"), m.group("field")
    )
    if field not in ("display_name", "metadata_schema_uri"):
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported filter field '{field}'")
    value, equal = m.group("value"), m.group("op") == "="
    return lambda d: (getattr(d, field) == value) == equal


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def fake_dataset_service(
    port: int = 0, host: str = LOCALHOST
) -> AbstractContextManager[tuple[FakeDatasetService, str]]:
    """Serve a fresh fake on `port` (0: a free one); yields (fake, "host:port")."""
    return serve(FakeDatasetService(), port, host)
