"""URIs (local path, file://, gs://), staged outputs committed at the end, small JSON files.

Local paths are handled with the standard library; other schemes go through the Hadoop
FileSystem of the classic (JVM) session, which is the only way to write a named small file to
gs:// from Spark. Spark Connect sessions support local paths only for those small files.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from churn.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SNIFF_BYTES = 65536


def is_local(uri: str) -> bool:
    """True for a plain path or a file:// URI."""
    return urlparse(uri).scheme in ("", "file") or (len(uri) > 1 and uri[1] == ":")


def local_path(uri: str) -> str:
    """The absolute filesystem path of a local URI."""
    if uri.startswith("file://"):
        return urlparse(uri).path
    return os.path.abspath(uri)


def spark_path(uri: str) -> str:
    """The path to hand to Spark readers and writers (absolute for local URIs)."""
    return local_path(uri) if is_local(uri) else uri


def join(uri: str, *parts: str) -> str:
    """Join path segments onto a URI with '/' (works for gs:// and local paths alike)."""
    return "/".join([uri.rstrip("/"), *parts])


def _hadoop_fs(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """The Hadoop FileSystem and Path for ``uri`` (classic sessions only)."""
    from churn.session import is_connect

    if is_connect(spark):
        raise InputError(
            f"{uri}: writing or moving files at non-local URIs needs a classic Spark session "
            "(Hadoop FileSystem via the JVM); this is a Spark Connect session. Use local paths "
            "with Spark Connect, or run the job with spark-submit / on Dataproc."
        )
    jvm = spark.sparkContext._jvm  # the only route from Python to Hadoop FS
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def exists(spark: SparkSession | None, uri: str) -> bool:
    """True when a file or directory exists at ``uri``."""
    if is_local(uri):
        return os.path.exists(local_path(uri))
    assert spark is not None
    fs, path = _hadoop_fs(spark, uri)
    return bool(fs.exists(path))


def delete(spark: SparkSession | None, uri: str) -> None:
    """Remove a file or directory tree if it exists."""
    if is_local(uri):
        p = local_path(uri)
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.exists(p):
            os.remove(p)
        return
    assert spark is not None
    fs, path = _hadoop_fs(spark, uri)
    fs.delete(path, True)


def rename(spark: SparkSession | None, src: str, dst: str) -> None:
    """Move ``src`` to ``dst``; ``dst`` must not exist."""
    if is_local(src) and is_local(dst):
        os.replace(local_path(src), local_path(dst))
        return
    assert spark is not None
    fs, src_path = _hadoop_fs(spark, src)
    _, dst_path = _hadoop_fs(spark, dst)
    if not fs.rename(src_path, dst_path):
        raise OSError(f"could not rename {src} to {dst}")


def write_text(spark: SparkSession | None, uri: str, text: str) -> None:
    """Write a small text file (parents created)."""
    if is_local(uri):
        p = local_path(uri)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        return
    assert spark is not None
    fs, path = _hadoop_fs(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def read_text(spark: SparkSession | None, uri: str) -> str:
    """Read a small text file."""
    if is_local(uri):
        with open(local_path(uri), encoding="utf-8") as f:
            return f.read()
    assert spark is not None
    rows = spark.read.text(uri, wholetext=True).collect()
    return rows[0][0] if rows else ""


def write_json(spark: SparkSession | None, uri: str, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON."""
    write_text(spark, uri, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(spark: SparkSession | None, uri: str) -> dict[str, Any]:
    """Read a JSON object, failing with an InputError that names the file."""
    try:
        text = read_text(spark, uri)
    except (OSError, Exception) as exc:  # Spark raises its own types for missing gs:// files
        raise InputError(f"{uri}: cannot read ({type(exc).__name__}: {exc})".strip()) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{uri}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{uri}: expected a JSON object, found {type(data).__name__}")
    return data


def staging_uri(output: str) -> str:
    """A unique hidden sibling of ``output`` to build the result in before committing it."""
    parent, _, name = output.rstrip("/").rpartition("/")
    tmp_name = f".{name or 'output'}.tmp-{uuid.uuid4().hex[:12]}"
    return f"{parent}/{tmp_name}" if parent else tmp_name


@contextmanager
def staged_output(spark: SparkSession | None, output: str) -> Iterator[str]:
    """Yield a temporary sibling of ``output``; on success replace ``output`` with it.

    On any exception the temporary location is removed and ``output`` is left untouched, so a
    failed job never leaves a half-written result behind.
    """
    tmp = staging_uri(output)
    if is_local(tmp):
        os.makedirs(os.path.dirname(local_path(tmp)), exist_ok=True)
    try:
        yield tmp
    except BaseException:
        delete(spark, tmp)
        raise
    delete(spark, output)
    rename(spark, tmp, output)


def sniff_local_csv_header(uri: str) -> list[str] | None:
    """Read the header of a local CSV file without Spark; None when ``uri`` is not a local file.

    Fails early (before a JVM starts) on an empty file, binary garbage or undecodable bytes.
    """
    if not is_local(uri):
        return None
    path = local_path(uri)
    if os.path.isdir(path):
        return None
    if not os.path.exists(path):
        raise InputError(f"{uri}: input file not found. Check the --input path.")
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError(
            f"{uri}: the input file is empty (no header line). Expected a CSV export with the "
            "Telco churn columns, header first."
        )
    if b"\x00" in head:
        offset = head.index(b"\x00")
        raise InputError(
            f"{uri}: this is not a text CSV file (NUL byte at byte offset {offset}). "
            "Check that the path points at the CSV export and not a compressed or binary file."
        )
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A cut at the sniff boundary may split a character; only earlier errors count.
        if exc.start < len(head) - 4:
            bad = head[exc.start : exc.start + 8]
            raise InputError(
                f"{uri}: this is not a UTF-8 CSV file (undecodable bytes {bad!r} at byte offset "
                f"{exc.start}). Export the file as UTF-8 CSV."
            ) from exc
        text = head[: exc.start].decode("utf-8-sig")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    import csv

    return next(csv.reader([first_line]), [])
