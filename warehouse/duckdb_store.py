"""The warehouse tables in a local DuckDB file (runs/warehouse.duckdb by default).

Same tables and schemas as BigQuery (warehouse/schemas.py). A load replaces the pipeline job's
rows in one DuckDB transaction (DELETE WHERE pipeline_job = ?, then INSERT), so scoring the same
run twice leaves no duplicates and a failed load leaves the previous rows in place.
DuckDB allows one writing process per file: loads are short, and a second writer fails with
DuckDB's lock error rather than waiting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from warehouse.errors import SchemaMismatchError, SourceError, WarehouseError
from warehouse.loads import Load
from warehouse.records import arrow_table
from warehouse.schemas import TABLES, TableSpec, from_duckdb_type
from warehouse.sources import check_rows, committed_parquet

DEFAULT_PATH = Path("runs") / "warehouse.duckdb"


class DuckDBWarehouse:
    """The warehouse tables in one DuckDB file."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({str(self.path)!r})"

    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path))

    def ensure_tables(self, specs: list[TableSpec] | None = None) -> None:
        """Create absent tables; refuse (SchemaMismatchError) a table that differs."""
        with self._connect() as con:
            for spec in specs or list(TABLES.values()):
                self._ensure(con, spec)

    def _ensure(self, con, spec: TableSpec) -> None:
        found = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [spec.name],
        ).fetchall()
        if not found:
            con.execute(spec.duckdb_ddl())
            return
        columns = [
            (name, from_duckdb_type(kind), nullable == "NO") for name, kind, nullable in found
        ]
        problems = spec.differences(columns)
        if problems:
            raise SchemaMismatchError(f"{self.path}:{spec.name}", problems)

    def replace(self, load: Load) -> int:
        """Replace `load.pipeline_job`'s rows of the table with the source's; rows inserted."""
        spec = load.spec
        with self._connect() as con:
            self._ensure(con, spec)
            source_sql, params = self._source(con, load)
            constants = load.all_constants
            select = ["?" if name in constants else f'"{name}"' for name in spec.column_names]
            values = [constants[n] for n in spec.column_names if n in constants]
            columns = ", ".join(f'"{n}"' for n in spec.column_names)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    f'DELETE FROM "{spec.name}" WHERE pipeline_job = ?', [load.pipeline_job]
                )
                before = con.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()[0]
                con.execute(
                    f'INSERT INTO "{spec.name}" ({columns}) '
                    f"SELECT {', '.join(select)} FROM {source_sql}",
                    [*values, *params],
                )
                after = con.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()[0]
                con.execute("COMMIT")
            except Exception as exc:
                con.execute("ROLLBACK")
                raise WarehouseError(
                    f"{self.path}:{spec.name}: load of {load.pipeline_job} failed, nothing "
                    f"changed: {exc}"
                ) from exc
        return after - before

    def _source(self, con, load: Load) -> tuple[str, list[Any]]:
        """A FROM clause over the load's source, its columns checked against the contract."""
        if load.rows is not None:
            con.register("load_rows", arrow_table(load.spec, list(load.rows)))
            return "load_rows", []
        assert load.parquet is not None
        if load.parquet.folder.startswith("gs://"):
            raise SourceError(
                f"{load.parquet.folder}: the local DuckDB warehouse reads local files only"
            )
        listed = committed_parquet(load.spec.name, load.parquet)
        files = [_local(uri) for uri in listed.uris]
        con.read_parquet(files).create_view("load_source", replace=True)
        check_rows(
            load.spec.name, listed, con.execute("SELECT count(*) FROM load_source").fetchone()[0]
        )
        found = con.execute("DESCRIBE load_source").fetchall()
        have = {row[0]: from_duckdb_type(row[1]) for row in found}
        problems = []
        for name in load.source_columns:
            want = load.spec.column(name).type
            if name not in have:
                problems.append(f"missing column {name}")
            elif not _assignable(have[name], want):
                problems.append(f"column {name} is {have[name]}, the table wants {want}")
        if problems:
            raise SourceError(
                f"{load.spec.name}: the Parquet of {load.parquet.folder} does not fit "
                f"the contract: {'; '.join(problems)}. Nothing was loaded."
            )
        return "load_source", []

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Run a read query against the file (for tests, the README example, debugging)."""
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def _local(uri: str) -> str:
    """A local path from the file:// URI the local store gives (percent-escapes undone)."""
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


def _assignable(source: str, target: str) -> bool:
    # Same widening BigQuery allows on INSERT: integers into FLOAT64; an INTEGER (32-bit in
    # Spark's Parquet) into INT64.
    if source == target:
        return True
    return (source, target) in {("INTEGER", "INT64"), ("INT64", "FLOAT64"), ("INTEGER", "FLOAT64")}
