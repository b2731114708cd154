"""Reading a committed Spark output from a light step: exactly the files its manifest lists.

The same check the Spark jobs make (contract/outputs.py), through the stores of this package:
Cloud Storage through google-cloud-storage (never the /gcs/ FUSE mount), or a local folder. A
folder without manifest.json, or whose listed files are missing or of another size, is refused
with an OutputError naming the folder; a stale extra file beside the listed ones is never read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contract import outputs
from model_registry.store import Store, open_store


@dataclass(frozen=True)
class CommittedOutput:
    """A committed output whose files were found to match its manifest."""

    store: Store  # rooted at the output folder
    manifest: outputs.Manifest

    @property
    def uri(self) -> str:
        return self.store.root

    def key(self, rel: str) -> str:
        """The store key of listed file `rel`."""
        return self.manifest.key(rel)

    def uri_of(self, rel: str) -> str:
        """Where listed file `rel` is (gs://... or file://...)."""
        return self.store.uri(self.key(rel))

    def uris(self, prefix: str, suffix: str = "") -> list[str]:
        """The locations of the listed files under `prefix` ending with `suffix`, sorted."""
        return [self.uri_of(rel) for rel in self.manifest.under(prefix, suffix)]

    def read(self, rel: str) -> bytes:
        """The bytes of listed file `rel`; an OutputError if it is not listed or changed."""
        size = self.manifest.files.get(rel)
        if size is None:
            raise outputs.OutputMismatchError(f"{self.uri}: its {outputs.MANIFEST} lists no {rel}")
        found = self.store.read(self.key(rel))
        data = found.data if found is not None else None
        if data is None or len(data) != size:
            state = "is gone" if data is None else f"has {len(data)} bytes"
            raise outputs.mismatch(self.uri, self.manifest, [f"{rel} {state} (listed: {size})"])
        return data

    def read_json(self, rel: str) -> dict[str, Any]:
        """Listed file `rel` as a JSON object."""
        where = self.uri_of(rel)
        try:
            value = json.loads(self.read(rel).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise outputs.OutputMismatchError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise outputs.OutputMismatchError(f"{where}: expected a JSON object")
        return value


def listing(store: Store, root: str) -> dict[str, int]:
    """The files under `root` of `store` as {path under root: size}."""
    prefix = f"{root}/" if root else ""
    return {key[len(prefix) :]: size for key, size in store.list(prefix).items()}


def open_committed(
    uri: str,
    client: Any = None,
    *,
    what: str = "a committed output",
    exact_under: Iterable[str] = (),
) -> CommittedOutput:
    """The committed output at `uri`, checked against its manifest (OutputError otherwise)."""
    store = open_store(uri.rstrip("/"), client=client)
    found = store.read(outputs.MANIFEST)
    manifest = outputs.checked(
        store.root,
        found.data if found is not None else None,
        lambda root: listing(store, root),
        exact_under,
        what,
    )
    return CommittedOutput(store, manifest)
