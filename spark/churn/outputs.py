"""A job's output committed whole, and read back exactly as committed (format: contract/outputs.py).

Writing: `committing(spark, output, job)` yields an `Attempt` whose files all go under a folder
of their own, `<output>/attempt-<time>-<random>/`; when the job's block ends the folder is
listed and `<output>/manifest.json` is written LAST, in one atomic write (io.write_atomic): that
write is the commit. Then every other entry of `<output>` is removed (best effort): earlier
attempts, leftovers of a killed one. A block that raises removes its own folder and leaves the
previous manifest, so the previous output, as it was. A killed job leaves a folder no manifest
names: no reader ever reads it, and the next commit to that output removes it.

Reading: `open_committed(spark, uri)` refuses, naming the folder, an output without a manifest
or whose listed files are missing or of another size; `exact_under` also refuses unlisted files
in a folder a loader reads whole (PipelineModel.load reads its directory, not a file list).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from churn import io
from churn.contract import outputs as spec
from churn.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PARQUET = ".parquet"


def _spark_application(spark: SparkSession | None) -> str:
    if spark is None:
        return ""
    try:
        return str(spark.conf.get("spark.app.id", "") or "")
    except Exception:  # a Connect server may not expose it; the attempt id still names the run
        return ""


class Attempt:
    """One attempt at writing an output: its files go under `root`, its rows are counted."""

    def __init__(self, spark: SparkSession | None, output_uri: str, job: str) -> None:
        self.spark = spark
        self.output_uri = output_uri.rstrip("/")
        self.job = job
        now = dt.datetime.now(dt.UTC)
        # Unique per attempt (a retried batch must never write into its predecessor's folder),
        # and sortable by time for a person looking at the bucket.
        self.name = f"attempt-{now:%Y%m%dt%H%M%Sz}-{secrets.token_hex(4)}"
        self.root = io.join(self.output_uri, self.name)
        self.rows: int | None = None
        self._counted: tuple[str, list[str]] | None = None

    def uri(self, rel: str) -> str:
        """Where this attempt writes the file or folder `rel` ('data', 'metrics.json')."""
        return io.join(self.root, rel)

    def parquet(self, folder: str) -> list[str]:
        """The Parquet files this attempt wrote under `folder`, relative to its root."""
        prefix = folder.rstrip("/") + "/"
        return sorted(
            r
            for r in io.list_files(self.spark, self.root)
            if r.startswith(prefix) and r.endswith(PARQUET)
        )

    def count_rows(self, folder: str, expected: int | None = None) -> int:
        """Count the rows of the Parquet files written under `folder`; they become the
        manifest's row count. A count other than `expected` fails the attempt (a writer that
        left a task's output twice, or dropped one)."""
        prefix = folder.rstrip("/") + "/"
        files = self.parquet(folder)
        rows = _count(self.spark, [io.spark_path(self.uri(r)) for r in files])
        if expected is not None and rows != expected:
            raise RuntimeError(
                f"{self.uri(folder)}: the files written hold {rows} rows, the job produced "
                f"{expected}; nothing committed"
            )
        self.rows, self._counted = rows, (prefix, files)
        return rows

    def manifest(self) -> spec.Manifest:
        """The manifest of what this attempt wrote, as it is now on storage."""
        found = {
            rel: size
            for rel, size in io.list_files(self.spark, self.root).items()
            if not spec.is_sidecar(rel)
        }
        if not found:
            raise RuntimeError(f"{self.root}: the job wrote no files; nothing committed")
        if self._counted is not None:
            prefix, counted = self._counted
            now = sorted(r for r in found if r.startswith(prefix) and r.endswith(PARQUET))
            if now != counted:
                raise RuntimeError(f"{self.root}/{prefix}: files changed after they were counted")
        writer = spec.Writer(
            job=self.job,
            attempt=self.name,
            written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            spark_version=str(self.spark.version) if self.spark is not None else "",
            spark_application=_spark_application(self.spark),
        )
        return spec.Manifest(root=self.name, files=found, rows=self.rows, writer=writer)


def _count(spark: SparkSession | None, paths: list[str]) -> int:
    if not paths:
        return 0
    assert spark is not None
    return int(spark.read.parquet(*paths).count())


@contextmanager
def committing(spark: SparkSession | None, output_uri: str, job: str) -> Iterator[Attempt]:
    """Yield an Attempt; commit what it wrote when the block ends, discard it if it raises."""
    attempt = Attempt(spark, output_uri, job)
    existed = io.exists(spark, attempt.output_uri)
    try:
        yield attempt
        manifest = attempt.manifest()
        io.write_atomic(spark, io.join(attempt.output_uri, spec.MANIFEST), spec.to_bytes(manifest))
    except BaseException:
        _best_effort(io.delete, spark, attempt.root)
        if not existed:
            _best_effort(io.remove_empty_folder, spark, attempt.output_uri)
        raise
    for name in io.children(spark, attempt.output_uri):
        if name not in (spec.MANIFEST, attempt.name):
            # Files no manifest lists: earlier attempts, or a killed one's. Nothing reads them.
            _best_effort(io.delete, spark, io.join(attempt.output_uri, name))


def _best_effort(action: Any, spark: SparkSession | None, uri: str) -> None:
    try:
        action(spark, uri)
    except Exception as exc:  # cleaning up must never hide the job's own result or error
        print(f"warning: could not remove {uri}: {type(exc).__name__}: {exc}", file=sys.stderr)


@dataclass(frozen=True)
class Committed:
    """A committed output whose files were found to match its manifest."""

    uri: str
    manifest: spec.Manifest

    def path(self, rel: str) -> str:
        """The URI of the listed file or folder `rel`."""
        return io.join(self.uri, self.manifest.key(rel))

    def parquet(self, folder: str) -> list[str]:
        """The paths of the listed Parquet files under `folder`, for spark.read.parquet."""
        prefix = folder.rstrip("/") + "/"
        return [io.spark_path(self.path(r)) for r in self.manifest.under(prefix, PARQUET)]

    def read_json(self, spark: SparkSession | None, rel: str) -> dict[str, Any]:
        """A listed JSON file."""
        if rel not in self.manifest.files:
            raise InputError(f"{self.uri}: its {spec.MANIFEST} lists no {rel}")
        return io.read_json(spark, self.path(rel))


def open_committed(
    spark: SparkSession | None,
    uri: str,
    *,
    what: str = "a committed output",
    hint: str = "",
    exact_under: tuple[str, ...] = (),
) -> Committed:
    """The committed output at `uri`, or an InputError naming the folder (then `hint`)."""
    folder = uri.rstrip("/")
    try:
        manifest = spec.checked(
            folder,
            io.read_bytes(spark, io.join(folder, spec.MANIFEST)),
            lambda root: io.list_files(spark, io.join(folder, root) if root else folder),
            exact_under,
            what,
        )
    except spec.OutputError as exc:
        raise InputError(f"{exc} {hint}".strip()) from exc
    return Committed(folder, manifest)


def read_parquet(committed: Committed, spark: SparkSession, folder: str) -> DataFrame:
    """Exactly the listed Parquet files under `folder` (a stale file beside them is not read)."""
    paths = committed.parquet(folder)
    if not paths:
        raise InputError(f"{committed.uri}: its {spec.MANIFEST} lists no Parquet under {folder}/")
    return spark.read.parquet(*paths)
