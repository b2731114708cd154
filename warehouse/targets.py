"""Which warehouse a step writes to, from the deployment's `bq_dataset` value, and small reads.

`bq_dataset` is deployment-owned: `project.dataset` in an environment file means BigQuery; empty
or `duckdb:[path]` (local runs) means the DuckDB file (runs/warehouse.duckdb by default).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from warehouse.bigquery import BigQueryWarehouse, DatasetRef
from warehouse.duckdb_store import DEFAULT_PATH, DuckDBWarehouse
from warehouse.errors import SourceError

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


def read_json(uri: str, *, storage_client: Any = None) -> dict[str, Any]:
    """A JSON object from `gs://...`, `file://...` or a local path; SourceError if absent/bad."""
    try:
        if uri.startswith("gs://"):
            from google.api_core import exceptions
            from google.cloud import storage

            client = storage_client or storage.Client()
            bucket, _, name = uri.removeprefix("gs://").partition("/")
            try:
                text = client.bucket(bucket).blob(name).download_as_text()
            except exceptions.NotFound as exc:
                raise SourceError(f"{uri}: not found") from exc
        else:
            path = Path(uri.removeprefix("file://"))
            if not path.is_file():
                raise SourceError(f"{uri}: not found")
            text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{uri}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise SourceError(f"{uri}: expected a JSON object, got {type(data).__name__}")
    return data
