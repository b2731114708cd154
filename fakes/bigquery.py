"""An in-process fake of the BigQuery v2 REST API: the subset the warehouse uses, no more.

Why a fake and not an emulator from PyPI: `bqemulator` (the one that speaks the real client's
protocol and runs scripts) downloads DuckDB's spatial extension when it starts, which nothing
here (or CI) can fetch, and its pytest plugin breaks every test run unless `testcontainers` is
installed; `local-bigquery` needs Python >= 3.13; the Go emulator ships no wheel.

The real `google.cloud.bigquery.Client` talks to it over HTTP (client_options api_endpoint,
AnonymousCredentials). Implemented, with the real API's rules and error shapes
(`{"error": {code, message, errors: [{reason, message, domain}], status}}`):

- datasets.get/insert; tables.get/insert/delete (schema, DAY partitioning on a DATE/TIMESTAMP
  column, clustering <= 4 columns, expirationTime; 409 duplicate, 404 notFound);
- jobs.insert of a PARQUET load from gs:// URIs (one `*` wildcard; objects read from the GCS
  emulator) or from a multipart upload; WRITE_TRUNCATE/WRITE_APPEND/WRITE_EMPTY,
  CREATE_IF_NEEDED/CREATE_NEVER; schema from the Parquet, checked against an existing table;
- jobs.insert of a GoogleSQL query with named parameters, limited to the statement shapes the
  warehouse generates: `BEGIN TRANSACTION; DELETE FROM `t` WHERE col = @p; INSERT INTO `t`
  (cols) SELECT col|@param, ... FROM `s`; COMMIT TRANSACTION;` (a failing statement rolls the
  whole script back, as BigQuery does). Anything else is refused with `invalidQuery`;
- jobs.get and jobs.getQueryResults; failed jobs carry `status.errorResult`.

Test hooks: `deny(dataset)` answers 403 accessDenied for everything in that dataset;
`inject_fault(method, status, reason=...)` fails the next calls of a REST method (`jobs.insert`,
`*`...; fakes.base);
`fail_statement(kind)` fails the next script at its DELETE or INSERT (after the earlier
statements ran inside the transaction); `rows(table)` reads a table as a pyarrow Table.

    python -m fakes.bigquery --port 9050
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.parser
import fnmatch
import functools
import io
import itertools
import json
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fakes.base import (
    LOCALHOST,
    Fault,
    HttpFake,
    JsonHandler,
    serve,
    serve_until_interrupted,
)

_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           409: "ALREADY_EXISTS", 500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip
_TYPES = {"STRING", "BYTES", "INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BOOLEAN", "BOOL",
          "TIMESTAMP", "DATE", "TIME", "DATETIME", "JSON"}  # fmt: skip
_LEGACY = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
_TABLE_ID = re.compile(r"[\w-]{1,1024}")
_WIDENING = {("INTEGER", "FLOAT")}


class ApiError(Exception):
    """An error answered the way BigQuery answers it."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict[str, Any]:
        """The REST error payload."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
                "status": _STATUS.get(self.code, "UNKNOWN"),
            }
        }

    def error_proto(self) -> dict[str, str]:
        """The ErrorProto of a failed job."""
        return {"reason": self.reason, "message": self.message}


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "notFound", f"Not found: {kind} {name}")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", message)


def _invalid_query(message: str) -> ApiError:
    return ApiError(400, "invalidQuery", message)


@dataclass
class Table:
    """A stored table: its REST resource and its rows."""

    resource: dict[str, Any]
    data: pa.Table

    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.resource.get("schema", {}).get("fields", [])

    def field_type(self, name: str) -> str | None:
        for f in self.fields:
            if f["name"] == name:
                return f["type"]
        return None


class _Handler(JsonHandler):
    fake: FakeBigQuery

    def route(self, verb: str) -> None:
        url = urlparse(self.path)
        try:
            method, args = _route(verb, url.path)
        except ApiError as err:
            return self.reply(err.code, err.body())
        body = self.read_body()
        content_type = self.headers.get("Content-Type", "")
        work = functools.partial(
            self.fake.call, method, args, parse_qs(url.query), body, content_type
        )
        return self.answer(method, work)


@dataclass
class FakeBigQuery(HttpFake):
    """The fake's state; `serve_bigquery` puts an HTTP server in front of it."""

    HANDLER: ClassVar[type[JsonHandler]] = _Handler

    read_objects: Callable[[str], list[tuple[str, bytes]]] | None = None
    location: str = "US"
    datasets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tables: dict[tuple[str, str, str], Table] = field(default_factory=dict)
    jobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._denied: set[tuple[str, str]] = set()
        self._statement_faults: list[tuple[str, str, str]] = []
        self._ids = itertools.count(1)

    # --- test hooks ---------------------------------------------------------------------------
    def add_dataset(self, dataset: str) -> None:
        """Create `project.dataset` directly."""
        project, _, dataset_id = dataset.partition(".")
        with self.lock:
            self.datasets[(project, dataset_id)] = _dataset_resource(
                project, dataset_id, self.location
            )

    def deny(self, dataset: str) -> None:
        """Every call touching `project.dataset` answers 403 accessDenied."""
        project, _, dataset_id = dataset.partition(".")
        self._denied.add((project, dataset_id))

    def fail_statement(self, kind: str, reason: str = "backendError", message: str = "") -> None:
        """The next script fails with `reason` at its first `kind` (DELETE/INSERT).

        BigQuery cancels a transaction that mutates a table another one is mutating: use
        reason 'invalidQuery' and a 'Transaction is aborted due to concurrent update' message.
        """
        self._statement_faults.append((kind.upper(), reason, message))

    def rows(self, table: str) -> pa.Table:
        """The rows of `project.dataset.table`."""
        return self.tables[_split_table(table, "")].data

    def table_names(self) -> list[str]:
        return sorted(".".join(key) for key in self.tables)

    def reset(self) -> None:
        """Forget datasets, tables, jobs, queries, denials, calls and faults."""
        with self.lock:
            super().reset()
            self.datasets.clear()
            self.tables.clear()
            self.jobs.clear()
            self.queries.clear()
            self._denied.clear()
            self._statement_faults.clear()

    def fault_body(self, fault: Fault) -> dict[str, Any]:
        message = f"{fault.message} ({fault.reason or 'backendError'})"
        return ApiError(fault.code, fault.reason or "backendError", message).body()

    # --- dispatch -----------------------------------------------------------------------------
    def call(
        self, method: str, args: tuple[str, ...], query: dict[str, list[str]], body: bytes,
        content_type: str,
    ) -> tuple[int, dict[str, Any] | None]:  # fmt: skip
        """Answer one REST call of `method`: (HTTP status, JSON body)."""
        handler = getattr(self, "_" + method.replace(".", "_"))
        try:
            with self.lock:
                return handler(*args, query=query, body=body, content_type=content_type)
        except ApiError as err:
            return err.code, err.body()
        except Exception as exc:  # a bug of the fake: answer 400 so the client fails fast
            return 400, ApiError(400, "invalid", f"fake BigQuery error: {exc!r}").body()

    def _check_access(self, project: str, dataset_id: str, permission: str, what: str) -> None:
        if (project, dataset_id) in self._denied:
            raise ApiError(
                403,
                "accessDenied",
                f"Access Denied: {what}: Permission {permission} denied on dataset "
                f"{project}:{dataset_id} (or it may not exist).",
            )

    def _dataset(self, project: str, dataset_id: str, permission: str, what: str) -> dict:
        self._check_access(project, dataset_id, permission, what)
        found = self.datasets.get((project, dataset_id))
        if found is None:
            raise _not_found("Dataset", f"{project}:{dataset_id}")
        return found

    # --- datasets -----------------------------------------------------------------------------
    def _datasets_get(self, project, dataset_id, **_) -> tuple[int, dict]:
        what = f"Dataset {project}:{dataset_id}"
        return 200, self._dataset(project, dataset_id, "bigquery.datasets.get", what)

    def _datasets_insert(self, project, *, body, **_) -> tuple[int, dict]:
        ref = json.loads(body or b"{}").get("datasetReference") or {}
        dataset_id = ref.get("datasetId", "")
        if not re.fullmatch(r"\w{1,1024}", dataset_id):
            raise _invalid(f'Invalid dataset ID "{dataset_id}".')
        if (project, dataset_id) in self.datasets:
            raise ApiError(409, "duplicate", f"Already Exists: Dataset {project}:{dataset_id}")
        self.add_dataset(f"{project}.{dataset_id}")
        return 200, self.datasets[(project, dataset_id)]

    # --- tables -------------------------------------------------------------------------------
    def _table(self, key: tuple[str, str, str], permission: str) -> Table:
        project, dataset_id, table_id = key
        name = f"{project}:{dataset_id}.{table_id}"
        self._dataset(project, dataset_id, permission, f"Table {name}")
        table = self.tables.get(key)
        if table is None or _expired(table):
            self.tables.pop(key, None)
            raise _not_found("Table", name)
        return table

    def _tables_get(self, project, dataset_id, table_id, **_) -> tuple[int, dict]:
        table = self._table((project, dataset_id, table_id), "bigquery.tables.get")
        return 200, _with_stats(table)

    def _tables_delete(self, project, dataset_id, table_id, **_) -> tuple[int, None]:
        self._table((project, dataset_id, table_id), "bigquery.tables.delete")
        del self.tables[(project, dataset_id, table_id)]
        return 204, None

    def _tables_insert(self, project, dataset_id, *, body, **_) -> tuple[int, dict]:
        resource = json.loads(body or b"{}")
        ref = resource.get("tableReference") or {}
        table_id = ref.get("tableId", "")
        key = (project, dataset_id, table_id)
        name = f"{project}:{dataset_id}.{table_id}"
        self._dataset(project, dataset_id, "bigquery.tables.create", f"Table {name}")
        if not _TABLE_ID.fullmatch(table_id):
            raise _invalid(f'Invalid table ID "{table_id}".')
        if key in self.tables and not _expired(self.tables[key]):
            raise ApiError(409, "duplicate", f"Already Exists: Table {name}")
        fields = _check_schema(resource.get("schema", {}).get("fields", []))
        _check_layout(resource, fields)
        stored = {
            **resource,
            "kind": "bigquery#table",
            "id": name,
            "type": "TABLE",
            "location": self.location,
            "tableReference": {"projectId": project, "datasetId": dataset_id, "tableId": table_id},
            "creationTime": str(int(time.time() * 1000)),
            "etag": f"etag-{next(self._ids)}",
            "schema": {"fields": fields},
        }
        self.tables[key] = Table(stored, _empty(fields))
        return 200, _with_stats(self.tables[key])

    # --- jobs ---------------------------------------------------------------------------------
    def _jobs_insert(self, project, *, body, **_) -> tuple[int, dict]:
        return self._insert_job(project, json.loads(body or b"{}"), upload=None)

    def _jobs_upload(self, project, *, query, body, content_type, **_) -> tuple[int, dict]:
        if query.get("uploadType", [""])[0] != "multipart":
            raise _invalid("this fake accepts multipart uploads only (uploadType=multipart)")
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = message.get_payload() if message.is_multipart() else []
        if len(parts) != 2:
            raise _invalid("a multipart upload has the job resource and the data")
        resource = json.loads(parts[0].get_payload(decode=True))
        return self._insert_job(project, resource, upload=parts[1].get_payload(decode=True))

    def _insert_job(self, project: str, resource: dict, upload: bytes | None) -> tuple[int, dict]:
        ref = resource.get("jobReference") or {}
        job_id = ref.get("jobId") or f"job_{next(self._ids)}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,1024}", job_id):
            raise _invalid(f'Invalid job ID "{job_id}".')
        if (project, job_id) in self.jobs:
            raise ApiError(
                409, "duplicate", f"Already Exists: Job {project}:{self.location}.{job_id}"
            )
        config = resource.get("configuration") or {}
        now = str(int(time.time() * 1000))
        job = {
            "kind": "bigquery#job",
            "id": f"{project}:{self.location}.{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": self.location},
            "configuration": config,
            "statistics": {"creationTime": now, "startTime": now},
            "status": {"state": "DONE"},
            "user_email": "anonymous@fake-bigquery",
        }
        try:
            if "load" in config:
                stats = self._run_load(project, config["load"], upload)
                job["statistics"]["load"] = stats
                config.setdefault("jobType", "LOAD")
            elif "query" in config:
                job["statistics"]["query"] = self._run_query(project, config["query"])
                config.setdefault("jobType", "QUERY")
            else:
                raise _invalid("this fake runs load and query jobs only")
        except ApiError as err:
            if err.code == 403 and "load" in config:
                raise  # permission is checked before the job is created
            job["status"] = {"state": "DONE", "errorResult": err.error_proto(),
                             "errors": [err.error_proto()]}  # fmt: skip
        job["statistics"]["endTime"] = str(int(time.time() * 1000))
        self.jobs[(project, job_id)] = job
        return 200, job

    def _jobs_get(self, project, job_id, **_) -> tuple[int, dict]:
        job = self.jobs.get((project, job_id))
        if job is None:
            raise _not_found("Job", f"{project}:{self.location}.{job_id}")
        return 200, job

    def _jobs_getQueryResults(self, project, job_id, **_) -> tuple[int, dict]:  # noqa: N802
        job = self.jobs.get((project, job_id))
        if job is None:
            raise _not_found("Job", f"{project}:{self.location}.{job_id}")
        error = job["status"].get("errorResult")
        if error:
            code = 403 if error["reason"] == "accessDenied" else (
                404 if error["reason"] == "notFound" else 400)  # fmt: skip
            if error["reason"] in ("backendError", "internalError"):
                code = 500
            raise ApiError(code, error["reason"], error["message"])
        return 200, {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": job["jobReference"],
            "jobComplete": True,
            "totalRows": "0",
            "rows": [],
            "schema": {"fields": []},
            "totalBytesProcessed": "0",
            "cacheHit": False,
        }

    # --- load ---------------------------------------------------------------------------------
    def _run_load(self, project: str, config: dict, upload: bytes | None) -> dict[str, str]:
        dest = config.get("destinationTable") or {}
        key = (dest.get("projectId", project), dest.get("datasetId", ""), dest.get("tableId", ""))
        name = f"{key[0]}:{key[1]}.{key[2]}"
        self._check_access(key[0], key[1], "bigquery.tables.updateData", f"Table {name}")
        if config.get("sourceFormat") != "PARQUET":
            raise _invalid(f"this fake loads PARQUET only, not {config.get('sourceFormat', 'CSV')}")
        if (key[0], key[1]) not in self.datasets:
            raise _not_found("Dataset", f"{key[0]}:{key[1]}")
        data = self._read_parquet(config.get("sourceUris") or [], upload)
        fields = _fields_of(data.schema)
        table = self.tables.get(key)
        if table is not None and _expired(table):
            del self.tables[key]
            table = None
        create = config.get("createDisposition", "CREATE_IF_NEEDED")
        write = config.get("writeDisposition", "WRITE_APPEND")
        if table is None:
            if create == "CREATE_NEVER":
                raise _not_found("Table", name)
            resource = {"schema": {"fields": fields}, "tableReference": {"tableId": key[2]}}
            self._tables_insert(key[0], key[1], body=json.dumps(resource).encode())
            table = self.tables[key]
        if write == "WRITE_TRUNCATE":
            table.resource["schema"] = {"fields": fields}
            table.data = data
        elif write == "WRITE_EMPTY" and table.data.num_rows:
            raise ApiError(409, "duplicate", f"Already Exists: Table {name}")
        else:
            data = _conform(table, data, name)
            table.data = pa.concat_tables([table.data, data])
        return {"outputRows": str(data.num_rows), "inputFiles": "1", "badRecords": "0"}

    def _read_parquet(self, uris: list[str], upload: bytes | None) -> pa.Table:
        blobs: list[tuple[str, bytes]] = []
        if upload is not None:
            blobs.append(("upload", upload))
        for uri in uris:
            blobs.extend(self._read_source(uri))
        if not blobs:
            raise _invalid("Load configuration must specify at least one source URI")
        return _concat_parquet(blobs)

    def _read_source(self, uri: str) -> list[tuple[str, bytes]]:
        """The (name, bytes) of every object a load job's source URI matches."""
        if not uri.startswith("gs://"):
            raise _invalid(f"Source URI must be a Google Cloud Storage location: {uri}")
        if uri.count("*") > 1:
            raise _invalid(f"Only one * wildcard is allowed in a source URI: {uri}")
        if self.read_objects is None:
            raise _invalid("this fake was started without a GCS reader")
        found = self.read_objects(uri)
        if not found:
            raise _not_found("URI", uri)
        return found

    # --- query --------------------------------------------------------------------------------
    def _run_query(self, project: str, config: dict) -> dict[str, Any]:
        sql = config.get("query", "")
        self.queries.append(sql)
        if config.get("useLegacySql", True) is not False:
            raise _invalid_query(
                "Syntax error: legacy SQL cannot run this query (set useLegacySql false)"
            )
        params = _parameters(config.get("queryParameters") or [])
        statements = [s.strip() for s in sql.strip().split(";") if s.strip()]
        if (
            not statements
            or statements[0] != "BEGIN TRANSACTION"
            or statements[-1] != "COMMIT TRANSACTION"
        ):
            raise _invalid_query(
                "this fake runs only BEGIN TRANSACTION; DELETE ...; INSERT ... SELECT ...; "
                "COMMIT TRANSACTION; scripts"
            )
        # Statements work on copies; the transaction commits by swapping them in at the end.
        staged: dict[tuple[str, str, str], pa.Table] = {}
        for text in statements[1:-1]:
            kind = text.split(None, 1)[0].upper()
            fault = next((f for f in self._statement_faults if f[0] == kind), None)
            if fault:
                self._statement_faults.remove(fault)
                raise ApiError(500, fault[1], fault[2] or f"injected {fault[1]} at {kind}")
            if kind == "DELETE":
                self._delete(project, text, params, staged)
            elif kind == "INSERT":
                self._insert(project, text, params, staged)
            else:
                raise _invalid_query(
                    f"Syntax error: unsupported statement in this fake: {text[:60]}"
                )
        for key, data in staged.items():
            self.tables[key].data = data
        return {"statementType": "SCRIPT", "totalBytesProcessed": "0"}

    def _current(self, key, staged) -> pa.Table:
        return staged.get(key, self.tables[key].data)

    def _target(
        self, project: str, ref: str, permission: str
    ) -> tuple[tuple[str, str, str], Table]:
        key = _split_table(ref, project)
        return key, self._table(key, permission)

    def _delete(self, project, text, params, staged) -> None:
        m = re.fullmatch(r"DELETE FROM `([^`]+)` WHERE `?(\w+)`? = @(\w+)", text)
        if not m:
            raise _invalid_query(f"Syntax error: unsupported DELETE in this fake: {text[:80]}")
        key, table = self._target(project, m.group(1), "bigquery.tables.updateData")
        column, param = m.group(2), m.group(3)
        if table.field_type(column) is None:
            raise _invalid_query(f"Unrecognized name: {column}")
        value = _param(params, param)
        data = self._current(key, staged)
        keep = pc.invert(pc.fill_null(pc.equal(data[column], pa.scalar(value)), False))
        staged[key] = data.filter(keep)

    def _insert(self, project, text, params, staged) -> None:
        m = re.fullmatch(
            r"INSERT INTO `([^`]+)` \(([^)]*)\) SELECT (.+) FROM `([^`]+)`", text, re.S
        )
        if not m:
            raise _invalid_query(f"Syntax error: unsupported INSERT in this fake: {text[:80]}")
        key, table = self._target(project, m.group(1), "bigquery.tables.updateData")
        src_key, source = self._target(project, m.group(4), "bigquery.tables.getData")
        columns = [c.strip().strip("`") for c in m.group(2).split(",")]
        items = [i.strip() for i in m.group(3).split(",")]
        if len(columns) != len(items):
            raise _invalid_query(
                f"Inserted row has wrong column count; Has {len(items)}, expected {len(columns)}"
            )
        src = self._current(src_key, staged)
        n = src.num_rows
        arrays = {}
        for column, item in zip(columns, items, strict=True):
            target_type = table.field_type(column)
            if target_type is None:
                raise _invalid_query(f"Column {column} is not present in table {m.group(1)}")
            if item.startswith("@"):
                value, kind = _param_typed(params, item[1:])
                source_type = kind
                array = pa.array([value] * n, type=_arrow_type(target_type))
            else:
                name = item.strip("`")
                source_type = source.field_type(name)
                if source_type is None:
                    raise _invalid_query(f"Unrecognized name: {name}")
                array = src[name].cast(_arrow_type(target_type))
            source_type = _LEGACY.get(source_type, source_type)
            if source_type != target_type and (source_type, target_type) not in _WIDENING:
                raise _invalid_query(
                    f"Query column {len(arrays) + 1} has type {source_type} which cannot be "
                    f"inserted into column {column}, which has type {target_type}"
                )
            required = any(
                f["name"] == column and f.get("mode") == "REQUIRED" for f in table.fields
            )
            if required and array.null_count:
                raise _invalid_query(f"Cannot insert NULL into REQUIRED field {column}")
            arrays[column] = array
        current = self._current(key, staged)
        full = {
            f["name"]: arrays.get(f["name"], pa.nulls(n, _arrow_type(f["type"])))
            for f in table.fields
        }
        rows = pa.table(full, schema=current.schema)
        staged[key] = pa.concat_tables([current, rows])


# --- helpers ------------------------------------------------------------------------------------
_ROUTES = [
    ("GET", r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)", "datasets.get"),
    ("POST", r"/bigquery/v2/projects/([^/]+)/datasets", "datasets.insert"),
    ("GET", r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)", "tables.get"),
    ("DELETE", r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)", "tables.delete"),
    ("POST", r"/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables", "tables.insert"),
    ("POST", r"/bigquery/v2/projects/([^/]+)/jobs", "jobs.insert"),
    ("POST", r"/upload/bigquery/v2/projects/([^/]+)/jobs", "jobs.upload"),
    ("GET", r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)", "jobs.get"),
    ("GET", r"/bigquery/v2/projects/([^/]+)/queries/([^/]+)", "jobs.getQueryResults"),
]


def _route(verb: str, path: str) -> tuple[str, tuple[str, ...]]:
    for route_verb, pattern, method in _ROUTES:
        m = re.fullmatch(pattern, path)
        if m and verb == route_verb:
            return method, m.groups()
    raise _invalid(f"this fake does not implement {verb} {path}")


def _dataset_resource(project: str, dataset_id: str, location: str) -> dict[str, Any]:
    return {
        "kind": "bigquery#dataset",
        "id": f"{project}:{dataset_id}",
        "datasetReference": {"projectId": project, "datasetId": dataset_id},
        "location": location,
        "etag": "etag-1",
    }


def _split_table(ref: str, default_project: str) -> tuple[str, str, str]:
    parts = ref.split(".")
    if len(parts) == 2 and default_project:
        parts = [default_project, *parts]
    if len(parts) != 3 or not all(parts):
        raise _invalid_query(f'Table name "{ref}" missing dataset while no default dataset is set')
    return parts[0], parts[1], parts[2]


def _expired(table: Table) -> bool:
    expires = table.resource.get("expirationTime")
    return bool(expires) and int(expires) <= time.time() * 1000


def _with_stats(table: Table) -> dict[str, Any]:
    return {**table.resource, "numRows": str(table.data.num_rows),
            "lastModifiedTime": str(int(time.time() * 1000))}  # fmt: skip


def _check_schema(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for f in fields:
        name, kind = f.get("name", ""), str(f.get("type", "")).upper()
        if not _FIELD_NAME.fullmatch(name):
            raise _invalid(f"Invalid field name \"{name}\". Fields must contain only letters, "
                           "numbers, and underscores, start with a letter or underscore, and be "
                           "at most 300 characters long.")  # fmt: skip
        if name.lower() in seen:
            raise _invalid(f"Field {name} already exists in schema")
        seen.add(name.lower())
        if kind not in _TYPES:
            raise _invalid(f"Invalid value for type: {kind} is not a valid value")
        mode = str(f.get("mode") or "NULLABLE").upper()
        if mode not in ("NULLABLE", "REQUIRED", "REPEATED"):
            raise _invalid(f"Invalid value for mode: {mode} is not a valid value")
        out.append({**f, "type": _LEGACY.get(kind, kind), "mode": mode})
    return out


def _check_layout(resource: dict[str, Any], fields: list[dict[str, Any]]) -> None:
    types = {f["name"]: f["type"] for f in fields}
    part = resource.get("timePartitioning")
    if part:
        if part.get("type", "DAY") not in ("DAY", "HOUR", "MONTH", "YEAR"):
            raise _invalid(f"Invalid partitioning type {part.get('type')}")
        column = part.get("field")
        if column and types.get(column) not in ("DATE", "TIMESTAMP", "DATETIME"):
            raise _invalid(
                f"The field specified for partitioning can only be of type TIMESTAMP, DATE or "
                f"DATETIME. The type found is: {types.get(column, 'missing')}."
            )
    clustering = (resource.get("clustering") or {}).get("fields") or []
    if len(clustering) > 4:
        raise _invalid("Too many clustering fields: 4 at most")
    for column in clustering:
        if column not in types:
            raise _invalid(f"The field specified for clustering cannot be found in the schema. "
                           f"Invalid field: {column}.")  # fmt: skip
        if types[column] == "FLOAT":
            raise _invalid(f"Clustering on field {column} of type FLOAT is not supported.")


def _fields_of(schema: pa.Schema) -> list[dict[str, str]]:
    out = []
    for f in schema:
        t = f.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            kind = "STRING"
        elif pa.types.is_floating(t):
            kind = "FLOAT"
        elif pa.types.is_integer(t):
            kind = "INTEGER"
        elif pa.types.is_boolean(t):
            kind = "BOOLEAN"
        elif pa.types.is_timestamp(t):
            kind = "TIMESTAMP"
        elif pa.types.is_date(t):
            kind = "DATE"
        else:
            raise _invalid(f"Error while reading data: unsupported Parquet type {t} of {f.name}")
        out.append({"name": f.name, "type": kind, "mode": "NULLABLE" if f.nullable else "REQUIRED"})
    return out


def _concat_parquet(blobs: list[tuple[str, bytes]]) -> pa.Table:
    """One table from (name, Parquet bytes) files, which must all share one schema."""
    tables = []
    for name, blob in blobs:
        try:
            tables.append(pq.read_table(io.BytesIO(blob)))
        except (pa.ArrowException, OSError) as exc:
            raise _invalid(f"Error while reading data, error message: {name}: {exc}") from exc
    first = tables[0].schema
    for (name, _), other in zip(blobs[1:], tables[1:], strict=True):
        if not other.schema.equals(first):
            raise _invalid(f"Error while reading data: {name} has a different schema")
    return pa.concat_tables(tables)


def _arrow_type(kind: str) -> pa.DataType:
    return {"STRING": pa.string(), "FLOAT": pa.float64(), "INTEGER": pa.int64(),
            "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
            "DATE": pa.date32()}[_LEGACY.get(kind, kind)]  # fmt: skip


def _empty(fields: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([pa.field(f["name"], _arrow_type(f["type"])) for f in fields])
    return schema.empty_table()


def _conform(table: Table, data: pa.Table, name: str) -> pa.Table:
    """Loaded rows appended to an existing table: the Parquet columns must fit its schema."""
    columns = {}
    for f in table.fields:
        if f["name"] not in data.column_names:
            if f.get("mode") == "REQUIRED":
                raise _invalid(f"Provided Schema does not match Table {name}. "
                               f"Field {f['name']} is missing in new schema")  # fmt: skip
            columns[f["name"]] = pa.nulls(data.num_rows, _arrow_type(f["type"]))
            continue
        kind = _fields_of(pa.schema([data.schema.field(f["name"])]))[0]["type"]
        if kind != f["type"] and (kind, f["type"]) not in _WIDENING:
            raise _invalid(f"Provided Schema does not match Table {name}. Field {f['name']} "
                           f"has changed type from {f['type']} to {kind}")  # fmt: skip
        columns[f["name"]] = data[f["name"]].cast(_arrow_type(f["type"]))
    extra = [c for c in data.column_names if c not in columns]
    if extra:
        raise _invalid(f"Provided Schema does not match Table {name}. Cannot add fields "
                       f"(field: {extra[0]})")  # fmt: skip
    return pa.table(columns, schema=table.data.schema)


def _parameters(raw: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
    out = {}
    for p in raw:
        kind = (p.get("parameterType") or {}).get("type", "")
        text = (p.get("parameterValue") or {}).get("value")
        if not p.get("name"):
            raise _invalid_query("Positional parameters are not supported by this fake")
        out[p["name"]] = (_parse_value(text, kind, p["name"]), kind)
    return out


def _parse_value(text: str | None, kind: str, name: str) -> Any:
    if text is None:
        return None
    try:
        if kind == "STRING":
            return text
        if kind in ("INT64", "INTEGER"):
            return int(text)
        if kind in ("FLOAT64", "FLOAT"):
            return float(text)
        if kind in ("BOOL", "BOOLEAN"):
            return text.lower() == "true"
        if kind == "DATE":
            return dt.date.fromisoformat(text)
        if kind == "TIMESTAMP":
            stamp = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00").replace("Z", "+00:00"))
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise _invalid_query(f"Invalid {kind} value for query parameter {name}: {text}") from exc
    raise _invalid_query(f"Unsupported query parameter type {kind} for {name}")


def _param(params: dict[str, tuple[Any, str]], name: str) -> Any:
    return _param_typed(params, name)[0]


def _param_typed(params: dict[str, tuple[Any, str]], name: str) -> tuple[Any, str]:
    if name not in params:
        raise _invalid_query(f"Query parameter '{name}' not found")
    value, kind = params[name]
    return value, {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}.get(kind, kind)


def gcs_reader(client: Any) -> Callable[[str], list[tuple[str, bytes]]]:
    """Read `gs://bucket/prefix*suffix` objects through a google-cloud-storage client."""

    def read(uri: str) -> list[tuple[str, bytes]]:
        bucket, _, pattern = uri.removeprefix("gs://").partition("/")
        prefix = pattern.split("*", 1)[0]
        blobs = client.list_blobs(bucket, prefix=prefix)
        names = sorted(b.name for b in blobs if fnmatch.fnmatchcase(b.name, pattern))
        return [(f"gs://{bucket}/{n}", client.bucket(bucket).blob(n).download_as_bytes())
                for n in names]  # fmt: skip

    return read


def bigquery_client(url: str, project: str) -> Any:
    """The real `google.cloud.bigquery.Client` talking to the fake served at `url`."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def serve_bigquery(
    fake: FakeBigQuery | None = None, port: int = 0, host: str = LOCALHOST
) -> AbstractContextManager[tuple[FakeBigQuery, str]]:
    """Serve `fake` (or a new one) over HTTP; yields (fake, "http://host:port")."""
    return serve(fake or FakeBigQuery(), port, host)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted (gs:// read through STORAGE_EMULATOR_HOST)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9050)
    parser.add_argument("--host", default=LOCALHOST)
    args = parser.parse_args(argv)
    from google.cloud import storage

    fake = FakeBigQuery(read_objects=gcs_reader(storage.Client(project="fake")))
    serve_until_interrupted(
        serve_bigquery(fake, args.port, args.host),
        "fake BigQuery on {address} (client_options api_endpoint)",
    )


if __name__ == "__main__":
    main()
