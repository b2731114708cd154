"""fakes/bigquery.py keeps the real API's rules (checked with the real client)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.fakes.conftest import DATASET

TABLE = f"{DATASET}.t"


def _parquet(table: pa.Table) -> io.BytesIO:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    buf.seek(0)
    return buf


def test_tables_follow_the_real_rules(bq, fake_bq):
    schema = [bigquery.SchemaField("id", "STRING"), bigquery.SchemaField("x", "FLOAT64")]
    bad = bigquery.Table(TABLE, schema=schema)
    bad.time_partitioning = bigquery.TimePartitioning(field="x")
    with pytest.raises(exceptions.BadRequest, match="TIMESTAMP, DATE or DATETIME"):
        bq.create_table(bad)
    bad = bigquery.Table(TABLE, schema=schema)
    bad.clustering_fields = ["nope"]
    with pytest.raises(exceptions.BadRequest, match="clustering cannot be found"):
        bq.create_table(bad)
    bq.create_table(bigquery.Table(TABLE, schema=schema))
    with pytest.raises(exceptions.Conflict, match="Already Exists: Table"):
        bq.create_table(bigquery.Table(TABLE, schema=schema))
    assert [f.field_type for f in bq.get_table(TABLE).schema] == ["STRING", "FLOAT"]
    with pytest.raises(exceptions.NotFound, match=r"Not found: Table acme-analytics:churn_dev\.u"):
        bq.get_table(f"{DATASET}.u")
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset"):
        bq.get_dataset("acme-analytics.none")


def test_loads_check_the_table_schema_and_source(bq, fake_bq):
    bq.create_table(bigquery.Table(TABLE, schema=[bigquery.SchemaField("id", "STRING")]))
    config = bigquery.LoadJobConfig(source_format="PARQUET")
    wrong = _parquet(pa.table({"id": [1, 2]}))
    with pytest.raises(exceptions.BadRequest, match="changed type from STRING to INTEGER"):
        bq.load_table_from_file(
            wrong, TABLE, job_config=config, size=len(wrong.getvalue())
        ).result()
    with pytest.raises(exceptions.BadRequest, match="Google Cloud Storage"):
        bq.load_table_from_uri("file:///tmp/x.parquet", TABLE, job_config=config).result()
    csv = bigquery.LoadJobConfig(source_format="CSV")
    with pytest.raises(exceptions.BadRequest, match="PARQUET only"):
        bq.load_table_from_uri("gs://acme-churn-predictions/x.csv", TABLE, job_config=csv).result()
    assert fake_bq.rows(TABLE).num_rows == 0


def test_only_the_generated_statement_shapes_run(bq, fake_bq):
    with pytest.raises(exceptions.BadRequest, match="only BEGIN TRANSACTION"):
        bq.query(f"SELECT * FROM `{TABLE}`").result()
    legacy = bigquery.QueryJobConfig(use_legacy_sql=True)
    with pytest.raises(exceptions.BadRequest, match="legacy SQL"):
        bq.query("BEGIN TRANSACTION; COMMIT TRANSACTION;", job_config=legacy).result()
    bq.create_table(bigquery.Table(TABLE, schema=[bigquery.SchemaField("id", "STRING")]))
    missing_param = f"BEGIN TRANSACTION; DELETE FROM `{TABLE}` WHERE id = @x; COMMIT TRANSACTION;"
    with pytest.raises(exceptions.BadRequest, match="Query parameter 'x' not found"):
        bq.query(missing_param).result()


def test_denied_datasets_answer_403_access_denied(bq, fake_bq):
    fake_bq.deny(DATASET)
    with pytest.raises(exceptions.Forbidden) as err:
        bq.get_table(TABLE)
    assert err.value.errors[0]["reason"] == "accessDenied"
    assert "Permission bigquery.tables.get denied" in err.value.message
