"""Dataset registration with the real aiplatform_v1 DatasetServiceClient over gRPC to the fake."""

from __future__ import annotations

import grpc
import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1.services.dataset_service import DatasetServiceClient
from google.cloud.aiplatform_v1.services.dataset_service.transports.grpc import (
    DatasetServiceGrpcTransport,
)
from google.cloud.aiplatform_v1.types import dataset as ds
from google.protobuf import json_format, struct_pb2

from fakes.dataset_service import TABULAR, fake_dataset_service
from tests.served import served_fake
from warehouse.errors import WarehouseError
from warehouse.vertex_dataset import dataset_client, register_table

PARENT = "projects/acme-ml/locations/europe-west4"
TABLE = "acme-analytics.churn_dev.prepared_data"


served, fake = served_fake("fake", fake_dataset_service, server="served")


@pytest.fixture
def client(served, fake) -> DatasetServiceClient:
    channel = grpc.insecure_channel(served[1])
    return dataset_client("europe-west4", transport=DatasetServiceGrpcTransport(channel=channel))


def test_registers_the_table_once_and_reuses_it(client, fake):
    first = register_table(client, PARENT, TABLE)
    assert first.created and first.display_name == TABLE
    again = register_table(client, PARENT, TABLE)
    assert again == first.__class__(first.name, TABLE, f"bq://{TABLE}", created=False)
    assert fake.calls["CreateDataset"] == 1
    (stored,) = fake.datasets.values()
    assert stored.metadata_schema_uri == TABULAR
    source = json_format.MessageToDict(ds.Dataset.pb(stored).metadata)["inputConfig"]
    assert source == {"bigquerySource": {"uri": f"bq://{TABLE}"}}
    assert stored.labels["managed-by"] == "churn-pipelines"
    assert fake.calls["GetOperation"] >= 1  # the long-running operation was waited for


def test_another_table_gets_its_own_dataset(client, fake):
    register_table(client, PARENT, TABLE)
    other = register_table(client, PARENT, "acme-analytics.churn_prod.prepared_data")
    assert other.created and len(fake.datasets) == 2


def test_a_same_named_dataset_of_another_source_is_a_conflict(client, fake):
    metadata = json_format.ParseDict(
        {"inputConfig": {"bigquerySource": {"uri": "bq://acme-other.x.y"}}}, struct_pb2.Value()
    )
    client.create_dataset(
        parent=PARENT,
        dataset=ds.Dataset(display_name=TABLE, metadata_schema_uri=TABULAR, metadata=metadata),
    ).result()
    with pytest.raises(WarehouseError, match=r"exists in .* for another source"):
        register_table(client, PARENT, TABLE)


def test_the_fake_enforces_the_real_rules(client, fake):
    long_name = "x" * 129
    with pytest.raises(WarehouseError, match="at most 128"):
        register_table(client, PARENT, TABLE, display_name=long_name)
    with pytest.raises(WarehouseError, match="invalid label key"):
        register_table(client, PARENT, TABLE, labels={"Bad Key": "v"})
    with pytest.raises(exceptions.InvalidArgument, match="exactly one of inputConfig"):
        client.create_dataset(
            parent=PARENT, dataset=ds.Dataset(display_name="n", metadata_schema_uri=TABULAR)
        )
    with pytest.raises(exceptions.InvalidArgument, match="invalid filter"):
        list(client.list_datasets(request={"parent": PARENT, "filter": "name~x"}))
    assert fake.datasets == {}


def test_transient_errors_and_denials(client, fake):
    fake.inject_fault("ListDatasets", grpc.StatusCode.UNAVAILABLE)
    assert register_table(client, PARENT, TABLE).created  # the client retries UNAVAILABLE
    fake.reset()
    fake.inject_fault("ListDatasets", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(WarehouseError, match=r"roles/aiplatform\.user"):
        register_table(client, PARENT, TABLE)
    with pytest.raises(WarehouseError, match="not a BigQuery table id"):
        register_table(client, PARENT, "just_a_table")
