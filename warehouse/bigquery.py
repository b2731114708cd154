"""Load the warehouse tables into BigQuery with load jobs from the Parquet on Cloud Storage.

Why load jobs (google-cloud-bigquery) and not the Spark BigQuery connector inside the Dataproc
batch: a load job is free (no slot or Storage Write API cost), atomic per job (all files or
none), reads the Parquet the Spark step already committed, and runs from a small pipeline step
with the pipeline's identity, so the Spark jobs stay storage-only (and locally testable) and a
failed load is retried without re-running Spark. The connector would put BigQuery credentials,
a connector jar matched to the runtime's Spark version and its own temporary bucket into every
batch, and its direct writes are not idempotent per pipeline job either.

Idempotency per pipeline job: every load goes to a staging table of its own (named after the
job, expiring after a day), then ONE multi-statement transaction deletes the job's rows from
the target and inserts the staged rows. A retried or re-run job therefore replaces its rows; a
failure anywhere leaves the target as it was. Why not WRITE_TRUNCATE on a partition decorator
(`predictions$20261201`): a scoring-date partition is not owned by one job (a manual re-score,
a backfill and the daily run can share a day), so truncating it would delete another job's
rows; and model_metrics / feature_importances have no per-job partition at all.

Before anything is staged the dataset is checked (missing: a clear error; no permission: a
clear error) and the target table is created from the contract (partitioning, clustering) or,
when it exists, compared with the contract: a difference fails naming the table and columns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import time
from dataclasses import dataclass
from typing import Any

from warehouse.errors import SchemaMismatchError, SourceError, WarehouseError
from warehouse.loads import Load
from warehouse.records import arrow_table
from warehouse.schemas import TABLES, TableSpec, standard_type
from warehouse.sources import ParquetFiles, check_rows, committed_parquet

STAGING_PREFIX = "_staging_"
STAGING_LIFETIME = dt.timedelta(days=1)
# Widening BigQuery accepts on INSERT ... SELECT (Spark writes int columns as 32-bit; the load
# job reports them as INT64 already).
_ASSIGNABLE = {("INT64", "FLOAT64")}


@dataclass(frozen=True)
class DatasetRef:
    """`project.dataset` as the environment names it."""

    project: str
    dataset: str

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Parse `project.dataset`; a clear error for anything else."""
        project, dot, dataset = text.strip().partition(".")
        if not dot or not project or not dataset or "." in dataset or "/" in text:
            raise WarehouseError(
                f"bq_dataset {text!r} is not 'project.dataset' (set it in the environment file)"
            )
        return cls(project, dataset)

    def table(self, name: str) -> str:
        """`project.dataset.name`."""
        return f"{self.project}.{self.dataset}.{name}"

    def __str__(self) -> str:
        return f"{self.project}.{self.dataset}"


class BigQueryWarehouse:
    """The warehouse tables in one BigQuery dataset, through a `bigquery.Client`."""

    def __init__(self, client: Any, dataset: str | DatasetRef, storage_client: Any = None) -> None:
        self.client = client
        #: reads the outputs' manifests (None: a default client when one is needed)
        self.storage_client = storage_client
        self.dataset = dataset if isinstance(dataset, DatasetRef) else DatasetRef.parse(dataset)
        self._location: str | None = None
        #: seconds between attempts of a script cancelled by a concurrent transaction
        self.conflict_backoff: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)

    def __repr__(self) -> str:
        return f"BigQueryWarehouse({str(self.dataset)!r})"

    def ensure_tables(self, specs: list[TableSpec] | None = None) -> None:
        """Create absent tables; SchemaMismatchError for a table that differs from the contract."""
        for spec in specs or list(TABLES.values()):
            self._ensure_table(spec)

    def replace(self, load: Load) -> int:
        """Replace `load.pipeline_job`'s rows of the table with the source's; rows inserted."""
        spec = load.spec
        table_id = self.dataset.table(spec.name)
        # Exactly the files the output committed, resolved before anything is created or staged.
        files = None
        if load.parquet is not None:
            files = committed_parquet(table_id, load.parquet, self.storage_client)
        self._ensure_table(spec)
        staging = self.dataset.table(f"{STAGING_PREFIX}{spec.name}_{_job_key(load.pipeline_job)}")
        try:
            rows = self._stage(load, files, table_id, staging)
            if files is not None:
                check_rows(table_id, files, rows)
            self._check_source(load, table_id, staging)
            self._merge(load, table_id, staging)
        finally:
            # Best effort: the staging table expires by itself if this delete fails.
            from google.api_core import exceptions

            with contextlib.suppress(exceptions.GoogleAPIError):
                self.client.delete_table(staging, not_found_ok=True)
        return rows

    # --- steps --------------------------------------------------------------------------------
    def _location_of_dataset(self, table_id: str) -> str:
        if self._location is None:
            dataset = self._call(table_id, "read its dataset", self.client.get_dataset,
                                 str(self.dataset))  # fmt: skip
            self._location = dataset.location
        return self._location

    def _ensure_table(self, spec: TableSpec) -> None:
        from google.api_core import exceptions
        from google.cloud import bigquery

        table_id = self.dataset.table(spec.name)
        self._location_of_dataset(table_id)
        try:
            found = self.client.get_table(table_id)
        except exceptions.NotFound:
            table = bigquery.Table(table_id, schema=spec.bigquery_schema())
            table.description = spec.description
            if spec.partition_by:
                table.time_partitioning = bigquery.TimePartitioning(
                    type_=bigquery.TimePartitioningType.DAY, field=spec.partition_by
                )
            if spec.cluster_by:
                table.clustering_fields = list(spec.cluster_by)
            try:
                self._call(table_id, "create the table", self.client.create_table, table)
                return
            except WarehouseError as err:
                if not isinstance(err.__cause__, exceptions.Conflict):
                    raise
                found = self.client.get_table(table_id)  # created meanwhile by another run
        except exceptions.GoogleAPICallError as exc:
            raise _error(table_id, "read the table", exc) from exc
        problems = spec.differences(
            [(f.name, f.field_type, f.mode == "REQUIRED") for f in found.schema]
        )
        problems.extend(_layout_differences(spec, found))
        if problems:
            raise SchemaMismatchError(table_id, problems)

    def _stage(self, load: Load, files: ParquetFiles | None, table_id: str, staging: str) -> int:
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        )
        location = self._location
        table = bigquery.Table(staging)
        table.expires = dt.datetime.now(dt.UTC) + STAGING_LIFETIME
        self._call(table_id, f"create the staging table {staging}", self.client.create_table,
                   table, exists_ok=True)  # fmt: skip
        if load.rows is not None:
            buffer = io.BytesIO()
            import pyarrow.parquet as pq

            pq.write_table(arrow_table(load.spec, list(load.rows)), buffer)
            size = buffer.tell()
            buffer.seek(0)
            job = self._call(
                table_id, f"upload the rows to {staging}", self.client.load_table_from_file,
                buffer, staging,
                size=size, job_config=config, location=location,
            )  # fmt: skip
        else:
            assert files is not None
            job = self._call(
                table_id, f"start the load job into {staging}", self.client.load_table_from_uri,
                list(files.uris), staging, job_config=config, location=location,
            )  # fmt: skip
        source = files.folder if files is not None else "the rows"
        self._call(table_id, f"load {source} into {staging}", job.result)
        return int(job.output_rows or 0)

    def _check_source(self, load: Load, table_id: str, staging: str) -> None:
        staged = self._call(table_id, f"read {staging}", self.client.get_table, staging)
        have = {f.name: standard_type(f.field_type) for f in staged.schema}
        problems = []
        for name in load.source_columns:
            want = load.spec.column(name).type
            if name not in have:
                problems.append(f"missing column {name}")
            elif have[name] != want and (have[name], want) not in _ASSIGNABLE:
                problems.append(f"column {name} is {have[name]}, the table wants {want}")
        if problems:
            where = load.parquet.folder if load.parquet is not None else "the rows"
            raise SourceError(
                f"{table_id}: {where} does not fit the contract: "
                f"{'; '.join(problems)}. Nothing was loaded."
            )

    def _merge(self, load: Load, table_id: str, staging: str) -> None:
        from google.api_core import exceptions
        from google.cloud import bigquery

        constants = load.all_constants
        columns = ", ".join(f"`{n}`" for n in load.spec.column_names)
        select = ", ".join(f"@{n}" if n in constants else f"`{n}`" for n in load.spec.column_names)
        sql = (
            "BEGIN TRANSACTION;\n"
            f"DELETE FROM `{table_id}` WHERE pipeline_job = @pipeline_job;\n"
            f"INSERT INTO `{table_id}` ({columns}) SELECT {select} FROM `{staging}`;\n"
            "COMMIT TRANSACTION;"
        )
        params = {"pipeline_job": load.pipeline_job, **constants}
        config = bigquery.QueryJobConfig(
            use_legacy_sql=False,
            query_parameters=[
                bigquery.ScalarQueryParameter(name, load.spec.column(name).type, value)
                for name, value in params.items()
            ],
        )
        # BigQuery cancels a transaction that mutates a table another transaction is mutating
        # (two scoring runs finishing together); the script is safe to run again as a whole.
        for wait in (*self.conflict_backoff, None):
            try:
                job = self.client.query(sql, job_config=config, location=self._location)
                job.result()
                return
            except exceptions.GoogleAPICallError as exc:
                if wait is None or "concurrent update" not in str(exc).lower():
                    raise _error(table_id, f"replace the rows of {load.pipeline_job}", exc) from exc
                time.sleep(wait)

    def _call(self, table_id: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from google.api_core import exceptions

        try:
            return fn(*args, **kwargs)
        except exceptions.GoogleAPICallError as exc:
            raise _error(table_id, what, exc) from exc


def _job_key(pipeline_job: str) -> str:
    """A table-name-safe key of a pipeline job id (job ids may hold characters tables cannot)."""
    return hashlib.sha256(pipeline_job.encode()).hexdigest()[:16]


def _layout_differences(spec: TableSpec, found: Any) -> list[str]:
    problems = []
    partition = found.time_partitioning.field if found.time_partitioning else None
    if partition != spec.partition_by:
        problems.append(f"partitioned by {partition}, the contract says {spec.partition_by}")
    clustering = tuple(found.clustering_fields or ())
    if clustering != spec.cluster_by:
        problems.append(
            f"clustered by {list(clustering)}, the contract says {list(spec.cluster_by)}"
        )
    return problems


def _error(table_id: str, what: str, exc: Exception) -> WarehouseError:
    """A WarehouseError that names the table and says what to do about the API's answer."""
    from google.api_core import exceptions

    message = getattr(exc, "message", str(exc))
    if isinstance(exc, exceptions.Forbidden):
        hint = (
            "the pipeline's service account needs roles/bigquery.dataEditor on the dataset and "
            "roles/bigquery.jobUser on the project (and read access to the Parquet bucket)"
        )
        return WarehouseError(f"{table_id}: no permission to {what}: {message}. {hint}")
    if isinstance(exc, exceptions.NotFound) and "Dataset" in message:
        return WarehouseError(
            f"{table_id}: the dataset does not exist ({message}); create it (infra/) or fix "
            "bq_dataset in the environment file. Nothing was loaded."
        )
    if isinstance(exc, exceptions.NotFound) and "URI" in message:
        return SourceError(f"{table_id}: no Parquet files to load ({message}). Nothing was loaded.")
    return WarehouseError(f"{table_id}: could not {what}: {message}. Nothing was loaded.")
