"""URIs (local path, file://, gs://): small files, listings, deletes, one atomic write.

Local paths are handled with the standard library; other schemes go through the Hadoop
FileSystem of the classic (JVM) session, which is the only way to write a named small file to
gs:// from Spark. Spark Connect sessions support local paths only for those small files.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from churn.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SNIFF_BYTES = 65536


def is_local(uri: str) -> bool:
    """True for a plain path or a file:// URI."""
    return urlparse(uri).scheme in ("", "file") or (len(uri) > 1 and uri[1] == ":")


def local_path(uri: str) -> str:
    """The absolute filesystem path of a local URI (file:// escapes such as %20 undone: the
    registry names local version folders with pathlib's as_uri)."""
    if uri.startswith("file://"):
        return unquote(urlparse(uri).path)
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


def read_bytes(spark: SparkSession | None, uri: str) -> bytes | None:
    """The bytes of the file at ``uri``; None when there is no file there."""
    if is_local(uri):
        try:
            with open(local_path(uri), "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
    assert spark is not None
    return _hadoop_read(spark, uri)


def _hadoop_read(spark: SparkSession, uri: str) -> bytes | None:
    fs, path = _hadoop_fs(spark, uri)
    if not fs.exists(path) or not fs.getFileStatus(path).isFile():
        return None
    stream = fs.open(path)
    try:
        return bytes(stream.readAllBytes())  # InputStream.readAllBytes: Java 9+
    finally:
        stream.close()


def write_atomic(spark: SparkSession | None, uri: str, data: bytes) -> None:
    """Write one small file so that a reader sees the old content or the new, never a part.

    Locally: a temporary sibling, flushed to disk, then os.replace (atomic on POSIX and
    Windows). Elsewhere: one Hadoop create, which on Cloud Storage is one upload that the
    connector finalizes at close() without deleting the old object first: until then readers
    get the previous object, after it the new one (object writes are strongly consistent,
    https://cloud.google.com/storage/docs/consistency; the Hadoop FileSystem specification,
    outputstream.md, lets object stores publish a file only when its stream closes).
    """
    if not is_local(uri):
        assert spark is not None
        _hadoop_write(spark, uri, data)
        return
    path = local_path(uri)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _hadoop_write(spark: SparkSession, uri: str, data: bytes) -> None:
    fs, path = _hadoop_fs(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()


def list_files(spark: SparkSession | None, uri: str) -> dict[str, int]:
    """Every file under the folder ``uri``, as {path relative to it ('a/b.parquet'): bytes}."""
    if not is_local(uri):
        assert spark is not None
        return _hadoop_list_files(spark, uri)
    base = local_path(uri)
    found = {}
    for folder, _, names in os.walk(base):
        for name in names:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, base).replace(os.sep, "/")] = os.path.getsize(path)
    return found


def _hadoop_list_files(spark: SparkSession, uri: str) -> dict[str, int]:
    fs, path = _hadoop_fs(spark, uri)
    if not fs.exists(path):
        return {}
    base = fs.makeQualified(path).toString().rstrip("/") + "/"
    found = {}
    files = fs.listFiles(path, True)  # recursive; files only (no folder placeholders)
    while files.hasNext():
        status = files.next()
        name = status.getPath().toString()
        if name.startswith(base):
            found[name[len(base) :]] = int(status.getLen())
    return found


def children(spark: SparkSession | None, uri: str) -> list[str]:
    """The names of the files and folders directly inside the folder ``uri``."""
    if not is_local(uri):
        assert spark is not None
        fs, path = _hadoop_fs(spark, uri)
        if not fs.exists(path) or fs.getFileStatus(path).isFile():
            return []
        return sorted(str(s.getPath().getName()) for s in fs.listStatus(path))
    path = local_path(uri)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def remove_empty_folder(spark: SparkSession | None, uri: str) -> None:
    """Remove the folder ``uri`` when nothing is left in it (a placeholder on object stores)."""
    if children(spark, uri):
        return
    if is_local(uri):
        if os.path.isdir(local_path(uri)):
            os.rmdir(local_path(uri))
        return
    assert spark is not None
    fs, path = _hadoop_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, False)


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
    data = read_bytes(spark, uri)
    if data is None:
        raise FileNotFoundError(f"{uri}: no such file")
    return data.decode("utf-8")


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
