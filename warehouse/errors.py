"""Errors the warehouse raises: each names the table (and what to do) for the person reading."""

from __future__ import annotations


class WarehouseError(RuntimeError):
    """A load could not run; nothing of it was written."""


class SchemaMismatchError(WarehouseError):
    """A table exists with a schema that differs from the contract in warehouse/schemas.py."""

    def __init__(self, table: str, problems: list[str]) -> None:
        self.table = table
        self.problems = problems
        super().__init__(
            f"table {table} does not match the warehouse contract: {'; '.join(problems)}. "
            "Nothing was loaded. Migrate the table explicitly (ALTER TABLE, or a new table name "
            "with a contract change in warehouse/schemas.py); loads never alter a schema."
        )


class SourceError(WarehouseError):
    """The data to load (Parquet files, metrics.json) is missing or has the wrong columns."""
