"""Register the prepared-data BigQuery table as a Vertex AI tabular dataset, once per table.

The dataset points at the table (BigQuery source), not at a copy: every training run appends
its rows (tagged with pipeline_job) to the same table, so one registration serves them all.
A registration is found by its display name (ListDatasets filter) and then checked by its
source: a dataset with our display name but another table is a conflict, never silently reused.
Two first-ever registrations racing could both create one; training schedules run one at a
time (max_concurrent_runs), and `find_registered` returns the oldest if that ever happened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from warehouse.errors import WarehouseError

TABULAR_SCHEMA = "gs://google-cloud-aiplatform/schema/dataset/metadata/tabular_1.0.0.yaml"
MAX_DISPLAY_NAME = 128
LABELS = {"managed-by": "churn-pipelines"}


@dataclass(frozen=True)
class Registration:
    """The Vertex AI dataset of a table, and whether this call created it."""

    name: str
    display_name: str
    source_uri: str
    created: bool


def bigquery_uri(table_id: str) -> str:
    """`project.dataset.table` -> `bq://project.dataset.table` (a clear error otherwise)."""
    parts = table_id.removeprefix("bq://").split(".")
    if len(parts) != 3 or not all(parts):
        raise WarehouseError(f"{table_id!r} is not a BigQuery table id project.dataset.table")
    return "bq://" + ".".join(parts)


def display_name_for(table_id: str) -> str:
    """The dataset's display name: the table id itself (what a person searches the console for)."""
    name = bigquery_uri(table_id).removeprefix("bq://")
    if len(name) > MAX_DISPLAY_NAME:
        raise WarehouseError(
            f"{name}: a Vertex AI dataset display name has at most {MAX_DISPLAY_NAME} characters; "
            "pass display_name explicitly"
        )
    return name


def dataset_client(region: str, **kwargs: Any) -> Any:
    """A DatasetServiceClient for `region`; with AIPLATFORM_EMULATOR_HOST set, plain-text gRPC
    to that host (tests, fakes/dataset_service.py)."""
    from google.cloud.aiplatform_v1.services.dataset_service import DatasetServiceClient

    emulator = os.environ.get("AIPLATFORM_EMULATOR_HOST")
    if emulator and "transport" not in kwargs:
        import grpc
        from google.cloud.aiplatform_v1.services.dataset_service.transports.grpc import (
            DatasetServiceGrpcTransport,
        )

        kwargs["transport"] = DatasetServiceGrpcTransport(channel=grpc.insecure_channel(emulator))
    if "transport" in kwargs:
        return DatasetServiceClient(**kwargs)
    return DatasetServiceClient(
        client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"}, **kwargs
    )


def _source_of(dataset: Any) -> str:
    from google.protobuf import json_format

    metadata = json_format.MessageToDict(type(dataset).pb(dataset).metadata)
    source = (metadata or {}).get("inputConfig", {}) if isinstance(metadata, dict) else {}
    return (source.get("bigquerySource") or {}).get("uri", "")


def find_registered(client: Any, parent: str, display_name: str, source_uri: str) -> Any | None:
    """The dataset registered for `source_uri` under `display_name`, or None."""
    from google.api_core import exceptions, retry

    # Reads are safe to repeat; the generated client sets no retry for ListDatasets.
    transient = retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.ServiceUnavailable, exceptions.DeadlineExceeded
        ),
        initial=0.2,
        maximum=5.0,
        timeout=60.0,
    )
    escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
    request = {"parent": parent, "filter": f'display_name="{escaped}"'}
    found = list(client.list_datasets(request=request, retry=transient))
    ours = sorted((d for d in found if _source_of(d) == source_uri), key=lambda d: d.create_time)
    if ours:
        return ours[0]
    if found:
        others = ", ".join(f"{d.name} ({_source_of(d) or 'no BigQuery source'})" for d in found)
        raise WarehouseError(
            f"Vertex AI dataset {display_name!r} exists in {parent} for another source: {others}; "
            f"it is not {source_uri}. Rename or delete it, or pass another display_name."
        )
    return None


def register_table(
    client: Any,
    parent: str,
    table_id: str,
    *,
    display_name: str = "",
    labels: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> Registration:
    """Find or create the tabular dataset of `table_id` in `parent` (projects/P/locations/L)."""
    from google.api_core import exceptions
    from google.cloud.aiplatform_v1.types import dataset as ds
    from google.protobuf import json_format, struct_pb2

    uri = bigquery_uri(table_id)
    name = display_name or display_name_for(table_id)
    try:
        existing = find_registered(client, parent, name, uri)
        if existing is not None:
            return Registration(existing.name, name, uri, created=False)
        metadata = json_format.ParseDict(
            {"inputConfig": {"bigquerySource": {"uri": uri}}}, struct_pb2.Value()
        )
        dataset = ds.Dataset(
            display_name=name,
            metadata_schema_uri=TABULAR_SCHEMA,
            metadata=metadata,
            labels={**LABELS, **(labels or {})},
            description=f"Prepared churn training rows, one pipeline_job per training run ({uri})",
        )
        operation = client.create_dataset(parent=parent, dataset=dataset)
        created = operation.result(timeout=timeout)
    except exceptions.PermissionDenied as exc:
        raise WarehouseError(
            f"{uri}: no permission to register it as a Vertex AI dataset in {parent}: "
            f"{exc.message}. The pipeline's service account needs roles/aiplatform.user."
        ) from exc
    except exceptions.GoogleAPICallError as exc:
        raise WarehouseError(
            f"{uri}: could not register it as a Vertex AI dataset in {parent}: {exc.message}"
        ) from exc
    return Registration(created.name, name, uri, created=True)
