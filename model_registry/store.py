"""Object stores under a registry root: a local folder and Cloud Storage, one interface.

Keys are '/'-separated paths relative to the root. Every write is conditional:
`if_generation=ABSENT` creates only when nothing has the name, any other value replaces only the
generation the caller read. Cloud Storage does that itself (`ifGenerationMatch`, through
`contract.conditional`, the project's one read-with-generation / write-if-generation
primitive); the local store does it with a lock file and `os.replace` of a single file. Neither
renames folders. Generations are opaque strings here, not Cloud Storage's integers: a local
file's is its inode and modification time, and a pipeline step hands the one it read to the next
step as a string parameter.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from contract.conditional import ChangingError, ConditionalObject
from model_registry.errors import ConflictError, NotFoundError, RegistryError

#: Parallel server-side copies when a version is registered from a run folder on Cloud Storage.
COPY_WORKERS = 8

#: The generation of a name nothing has (Cloud Storage's `ifGenerationMatch=0`).
ABSENT = "0"


@dataclass(frozen=True)
class StoredObject:
    """The bytes of an object and the generation they belong to."""

    data: bytes
    generation: str


class Store(Protocol):
    """Objects under one root URI."""

    root: str

    def uri(self, key: str) -> str: ...

    def read(self, key: str) -> StoredObject | None: ...

    def write(self, key: str, data: bytes, *, if_generation: str) -> str: ...

    def list(self, prefix: str) -> dict[str, int]: ...

    def children(self, prefix: str) -> list[str]: ...

    def copy_in(self, source: Store, pairs: dict[str, str]) -> dict[str, int]: ...


def _is_placeholder(key: str) -> bool:
    # Folder placeholders ("dir/") carry no data; Spark never reads them.
    return key.endswith("/")


class LocalStore:
    """A folder on this machine (`file://` URI or path)."""

    def __init__(self, root: str) -> None:
        self.path = Path(urlparse(root).path if root.startswith("file://") else root).resolve()
        self.root = self.path.as_uri()

    def uri(self, key: str) -> str:
        return (self.path / key).as_uri()

    def _file(self, key: str) -> Path:
        path = (self.path / key).resolve()
        if self.path not in path.parents:
            raise RegistryError(f"{key!r} points outside the registry {self.root}")
        return path

    @staticmethod
    def _generation(path: Path) -> str:
        # os.replace installs a new inode while the old file still exists, so (inode, mtime)
        # changes with every write, even one that writes identical bytes.
        stat = path.stat()
        return f"{stat.st_ino}.{stat.st_mtime_ns}"

    def read(self, key: str) -> StoredObject | None:
        path = self._file(key)
        try:
            with path.open("rb") as fh:
                generation = f"{os.fstat(fh.fileno()).st_ino}.{os.fstat(fh.fileno()).st_mtime_ns}"
                return StoredObject(fh.read(), generation)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        # flock is released by the kernel when a process dies, so a crash leaves no stale lock.
        lock = path.with_name(f".{path.name}.lock")
        with lock.open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def write(self, key: str, data: bytes, *, if_generation: str) -> str:
        path = self._file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if if_generation == ABSENT:
                try:
                    os.link(tmp, path)  # atomic, and fails when the name exists
                except FileExistsError:
                    raise ConflictError(f"{self.uri(key)} already exists") from None
                return self._generation(path)
            with self._locked(path):
                current = self._generation(path) if path.exists() else ABSENT
                if current != if_generation:
                    raise ConflictError(
                        f"{self.uri(key)} changed since it was read (generation {current}, "
                        f"expected {if_generation})"
                    )
                os.replace(tmp, path)
                tmp = ""
                return self._generation(path)
        finally:
            if tmp:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def list(self, prefix: str) -> dict[str, int]:
        base = self._file(prefix) if prefix else self.path
        if not base.is_dir():
            return {}
        out = {}
        for path in sorted(base.rglob("*")):
            if path.is_file() and not (path.name.startswith(".") and path.name.endswith(".lock")):
                out[path.relative_to(self.path).as_posix()] = path.stat().st_size
        return out

    def children(self, prefix: str) -> list[str]:
        base = self._file(prefix) if prefix else self.path
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def copy_in(self, source: Store, pairs: dict[str, str]) -> dict[str, int]:
        """Copy each source key to its target key here, only if absent; {target: bytes}."""
        return _copy_by_reading(source, self, pairs)


class GcsStore:
    """A `gs://bucket/prefix` location, through the google-cloud-storage client (no FUSE)."""

    def __init__(self, root: str, client=None) -> None:
        parsed = urlparse(root)
        if parsed.scheme != "gs" or not parsed.netloc:
            raise RegistryError(f"{root!r} is not a gs://BUCKET[/PREFIX] URI")
        if client is None:
            from google.cloud import storage

            client = storage.Client()
        self.client = client
        self.bucket = client.bucket(parsed.netloc)
        self.prefix = parsed.path.strip("/") + "/" if parsed.path.strip("/") else ""
        self.root = f"gs://{parsed.netloc}/{self.prefix}".rstrip("/")

    def uri(self, key: str) -> str:
        return f"gs://{self.bucket.name}/{self.prefix}{key}"

    def _object(self, key: str) -> ConditionalObject:
        return ConditionalObject(self.client, self.bucket.name, self.prefix + key)

    def read(self, key: str) -> StoredObject | None:
        try:
            snapshot = self._object(key).read()
        except ChangingError:
            raise ConflictError(
                f"{self.uri(key)} keeps changing while being read; try again"
            ) from None
        if not snapshot.exists:
            return None
        return StoredObject(snapshot.data or b"", str(snapshot.generation))

    def write(self, key: str, data: bytes, *, if_generation: str) -> str:
        if not (isinstance(if_generation, str) and if_generation.isdecimal()):
            raise RegistryError(
                f"{self.uri(key)}: {if_generation!r} is not a Cloud Storage generation "
                "(digits; a local registry's generation cannot be used here)"
            )
        written = self._object(key).write(data, int(if_generation))
        if written is not None:
            return str(written)
        if if_generation == ABSENT:
            raise ConflictError(f"{self.uri(key)} already exists")
        raise ConflictError(
            f"{self.uri(key)} changed since it was read (expected generation {if_generation})"
        )

    def list(self, prefix: str) -> dict[str, int]:
        out = {}
        for blob in self.client.list_blobs(self.bucket, prefix=self.prefix + prefix):
            if not _is_placeholder(blob.name):
                out[blob.name[len(self.prefix) :]] = int(blob.size or 0)
        return out

    def children(self, prefix: str) -> list[str]:
        pages = self.client.list_blobs(self.bucket, prefix=self.prefix + prefix, delimiter="/")
        for _ in pages:  # the prefixes are known only once the pages are read
            pass
        start = len(self.prefix + prefix)
        return sorted(p[start:].rstrip("/") for p in pages.prefixes)

    def copy_in(self, source: Store, pairs: dict[str, str]) -> dict[str, int]:
        """Copy each source key to its target key here, only if absent; {target: bytes}."""
        if not isinstance(source, GcsStore):
            return _copy_by_reading(source, self, pairs)
        from google.api_core import exceptions

        def copy(item: tuple[str, str]) -> tuple[str, int]:
            key, target = item
            blob = source.bucket.blob(source.prefix + key)
            try:
                # Server-side copy; "only if absent" keeps a version immutable.
                copied = source.bucket.copy_blob(
                    blob, self.bucket, self.prefix + target, if_generation_match=0
                )
            except exceptions.PreconditionFailed:
                raise ConflictError(f"{self.uri(target)} already exists") from None
            except exceptions.NotFound:
                raise NotFoundError(f"{source.uri(key)} disappeared while being copied") from None
            return target, int(copied.size or 0)

        # A Spark model is tens to hundreds of small objects: copy them a few at a time (the
        # transfer manager of google-cloud-storage shares one client across threads the same way).
        with ThreadPoolExecutor(max_workers=COPY_WORKERS) as pool:
            return dict(pool.map(copy, sorted(pairs.items())))


def _copy_by_reading(source: Store, target: Store, pairs: dict[str, str]) -> dict[str, int]:
    copied = {}
    for key, target_key in sorted(pairs.items()):
        obj = source.read(key)
        if obj is None:
            raise NotFoundError(f"{source.uri(key)} disappeared while being copied")
        target.write(target_key, obj.data, if_generation=ABSENT)
        copied[target_key] = len(obj.data)
    return copied


def open_store(uri: str, client=None) -> Store:
    """The store for a `gs://` URI, a `file://` URI or a local path."""
    scheme = urlparse(uri).scheme
    if scheme == "gs":
        return GcsStore(uri, client=client)
    if scheme in ("", "file"):
        return LocalStore(uri)
    raise RegistryError(f"{uri!r}: unsupported location (use gs://..., file://... or a path)")
