"""Which warehouse a step writes to, from the deployment's `bq_dataset` value.

`bq_dataset` is deployment-owned: `project.dataset` in an environment file means BigQuery; empty
or `duckdb:[path]` (local runs) means the DuckDB file (runs/warehouse.duckdb by default).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from warehouse.bigquery import BigQueryWarehouse, DatasetRef
from warehouse.duckdb_store import DEFAULT_PATH, DuckDBWarehouse

DUCKDB_SCHEME = "duckdb:"

Warehouse = BigQueryWarehouse | DuckDBWarehouse


def is_local(bq_dataset: str) -> bool:
    """True when `bq_dataset` selects the local DuckDB file."""
    return not bq_dataset.strip() or bq_dataset.strip().startswith(DUCKDB_SCHEME)


def open_warehouse(bq_dataset: str, *, bigquery_client: Any = None) -> Warehouse:
    """The warehouse `bq_dataset` names (a BigQuery client is made when none is given)."""
    text = bq_dataset.strip()
    if is_local(text):
        path = text.removeprefix(DUCKDB_SCHEME) or str(DEFAULT_PATH)
        return DuckDBWarehouse(Path(path))
    ref = DatasetRef.parse(text)
    if bigquery_client is None:
        bigquery_client = bigquery_client_for(ref.project)
    return BigQueryWarehouse(bigquery_client, ref)


def bigquery_client_for(project: str) -> Any:
    """A BigQuery client; with BIGQUERY_EMULATOR_HOST set, anonymous and aimed at it (tests)."""
    from google.cloud import bigquery

    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = emulator if "://" in emulator else f"http://{emulator}"
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return bigquery.Client(project=project)
