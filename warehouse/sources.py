"""What a load reads: exactly the Parquet files a committed Spark output's manifest lists.

Never a glob of the folder: a stale part file beside the committed ones (a retried batch, a
killed attempt) would be loaded too. A folder without manifest, or whose files are not the
listed ones, is refused before anything is staged (model_registry/committed.py does the check,
the same one the Spark jobs make; contract/outputs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import outputs
from warehouse.errors import SourceError

#: A BigQuery load job takes at most 10,000 source URIs ("Maximum number of source URIs in job
#: configuration", https://cloud.google.com/bigquery/quotas#load_jobs); a Spark output has a
#: handful of part files per task, far below it, and a bigger one is refused with this reason.
MAX_SOURCE_URIS = 10_000


@dataclass(frozen=True)
class ParquetSource:
    """The Parquet under `under` of the committed output at `folder` (a pure description)."""

    folder: str
    under: str = "data/"


@dataclass(frozen=True)
class ParquetFiles:
    """The listed files of a ParquetSource, and the rows its manifest counts (None: unknown)."""

    folder: str
    uris: tuple[str, ...]
    rows: int | None


def committed_parquet(
    table: str, source: ParquetSource, storage_client: Any = None
) -> ParquetFiles:
    """The files to load for `table` from `source`, or a SourceError naming both."""
    from model_registry.committed import open_committed

    try:
        output = open_committed(source.folder, storage_client, what="a committed Spark output")
    except outputs.NotCommittedError as exc:
        raise SourceError(f"{table}: no Parquet files to load: {exc}") from exc
    except outputs.OutputError as exc:
        raise SourceError(f"{table}: {exc} Nothing was loaded.") from exc
    uris = tuple(output.uris(source.under, ".parquet"))
    if not uris:
        raise SourceError(
            f"{table}: no Parquet files to load: the {outputs.MANIFEST} of {source.folder} lists "
            f"none under {source.under}"
        )
    if len(uris) > MAX_SOURCE_URIS:
        raise SourceError(
            f"{table}: {source.folder} has {len(uris)} Parquet files, more than the "
            f"{MAX_SOURCE_URIS} one BigQuery load job takes; write fewer, larger files"
        )
    return ParquetFiles(source.folder, uris, output.manifest.rows)


def check_rows(table: str, files: ParquetFiles, staged: int) -> None:
    """Refuse a load whose staged rows differ from the rows the manifest counts."""
    if files.rows is not None and staged != files.rows:
        raise SourceError(
            f"{table}: {staged} rows were read from {files.folder}, its {outputs.MANIFEST} counts "
            f"{files.rows}. Nothing was loaded."
        )
