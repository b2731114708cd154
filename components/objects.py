"""Reading small objects by URI from inside a lightweight step: gs:// or a local path.

Steps read `gs://` objects through the Cloud Storage API, not through the `/gcs/` Cloud
Storage FUSE mount: the mount shows a "folder" only where a placeholder object exists unless
implicit directories are on, and refuses folder renames by default, so what a step could read
would depend on how the writer created its prefixes. The API has neither problem. Imported
inside component functions (the components image carries this package).
"""

from __future__ import annotations

from pathlib import Path


def read_bytes(uri: str) -> bytes:
    """The bytes of the object or file at `uri` (gs://bucket/key, file://path or a path)."""
    if uri.startswith("gs://"):
        from google.cloud import storage

        bucket, _, key = uri[len("gs://") :].partition("/")
        if not bucket or not key:
            raise ValueError(f"'{uri}' is not a gs://BUCKET/OBJECT URI")
        return storage.Client().bucket(bucket).blob(key).download_as_bytes()
    return Path(uri.removeprefix("file://")).read_bytes()


def read_text(uri: str) -> str:
    """The UTF-8 text of the object or file at `uri`."""
    return read_bytes(uri).decode("utf-8")
