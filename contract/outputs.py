"""What a committed output is: the manifest written last, and the check every reader makes.

A Spark job writes every file of one attempt under a folder of its own inside its output,
`<output>/<attempt>/`, then commits by writing ONE small object, `<output>/manifest.json`, that
names that folder and lists its files with their sizes (and the rows, where the output is rows).
The registry commits a version folder the same way, its files directly in the folder (root '').

Why one object and no folder rename: writing one object is atomic on Cloud Storage (a reader
gets the old object or the new one, and a finished upload is at once visible to reads and
listings: https://cloud.google.com/storage/docs/consistency), and locally a temp file moved
with os.replace is too; renaming a folder on a bucket without hierarchical namespace is a copy
and a delete per object, "non-atomic ... only some objects moved" if it fails
(https://cloud.google.com/storage/docs/rename-hns-folders), and Cloud Storage FUSE refuses it.

A reader reads exactly the listed files and refuses, naming the folder, an output without a
manifest or whose listed files are missing or have another size; where a loader reads a whole
directory (Spark's PipelineModel.load), it also refuses files the manifest does not list there.

Pure logic, standard library only, importing no other contract module: the light steps import
it from here; the Spark jobs import it as `churn.contract.outputs` (spark/churn/contract is a link
to this folder), and churn.zip, which a Dataproc batch gets with nothing of the repository around
it, carries a copy made when it is published (contract/vendor.py ZIP_MODULES).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MANIFEST = "manifest.json"
FORMAT = "churn-output/1"

#: Problems named in one message; the rest are counted.
SHOWN_PROBLEMS = 5


class OutputError(Exception):
    """An output a reader refuses; the message names the folder and says what to do."""


class NotCommittedError(OutputError, FileNotFoundError):
    """No manifest: the job failed, was stopped, is still writing, or wrote no output there."""


class ManifestError(OutputError):
    """A manifest that is not what a writer of this format writes."""


class OutputMismatchError(OutputError):
    """The files in the folder are not the ones its manifest lists."""


@dataclass(frozen=True)
class Writer:
    """Who committed the output: the job, its attempt (also the name of the files' folder)."""

    job: str
    attempt: str
    written_at: str
    spark_version: str = ""
    spark_application: str = ""
    pipeline_job: str = ""


@dataclass(frozen=True)
class Manifest:
    """The commit of an output: where its files are and what they are."""

    root: str  # folder under the output holding the files; '' = the output folder itself
    files: dict[str, int]  # path under root -> size in bytes
    rows: int | None
    writer: Writer
    labels: dict[str, str] = field(default_factory=dict)  # what the writer says about it

    def key(self, rel: str) -> str:
        """The path of listed file `rel` relative to the output folder."""
        return f"{self.root}/{rel}" if self.root else rel

    def under(self, prefix: str, suffix: str = "") -> list[str]:
        """The listed files under `prefix` ('data/') ending with `suffix`, sorted."""
        return sorted(r for r in self.files if r.startswith(prefix) and r.endswith(suffix))


def to_bytes(manifest: Manifest) -> bytes:
    """The manifest as the JSON object a reader parses."""
    body = {
        "format": FORMAT,
        "root": manifest.root,
        "files": dict(sorted(manifest.files.items())),
        "rows": manifest.rows,
        "writer": asdict(manifest.writer),
        "labels": dict(sorted(manifest.labels.items())),
    }
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")


def is_sidecar(rel: str) -> bool:
    """Hadoop's local checksum files (`.part-00000.crc`), which only its local FS writes."""
    name = rel.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(".crc")


def check_path(rel: str, where: str, *, empty_ok: bool = False) -> str:
    """`rel` when it is a plain relative path ('a/b.parquet'), else a ManifestError."""
    if rel == "" and empty_ok:
        return rel
    segments = rel.split("/")
    if (
        not rel
        or "\\" in rel
        or any(ord(c) < 32 or ord(c) == 127 for c in rel)
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise ManifestError(f"{where}: {rel!r} is not a relative path inside the output")
    return rel


def _load(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(value).__name__}")
    if value.get("format") != FORMAT:
        raise ManifestError(
            f"{where}: field 'format' is {value.get('format')!r}, not {FORMAT!r} (written by "
            "another version of the code?); re-run the step that writes this output"
        )
    return value


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _files(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or not value:
        raise ManifestError(f"{where}: field 'files' must map each file's path to its size")
    for rel, size in value.items():
        check_path(rel, f"{where}: field 'files'")
        if not _count(size):
            raise ManifestError(f"{where}: field 'files': size of {rel!r} is not a byte count")
    return dict(value)


def _texts(value: Any, where: str, name: str, required: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestError(f"{where}: field '{name}' must map names to strings")
    missing = [k for k in required if not value.get(k)]
    if missing:
        raise ManifestError(f"{where}: field '{name}' has no {', '.join(missing)}")
    return dict(value)


def parse(data: bytes, where: str) -> Manifest:
    """The manifest in `data` (read from `where`), checked field by field."""
    value = _load(data, where)
    root = value.get("root")
    if not isinstance(root, str):
        raise ManifestError(f"{where}: field 'root' is missing or not a string")
    check_path(root, f"{where}: field 'root'", empty_ok=True)
    rows = value.get("rows")
    if rows is not None and not _count(rows):
        raise ManifestError(f"{where}: field 'rows' must be a row count or null")
    writer = _texts(value.get("writer"), where, "writer", ("job", "attempt", "written_at"))
    known = Writer.__dataclass_fields__
    manifest = Manifest(
        root=root,
        files=_files(value.get("files"), where),
        rows=rows,
        writer=Writer(**{k: v for k, v in writer.items() if k in known}),
        labels=_texts(value.get("labels", {}), where, "labels", ()),
    )
    if not root and MANIFEST in manifest.files:
        raise ManifestError(f"{where}: field 'files' lists the manifest itself")
    return manifest


def problems(
    files: Mapping[str, int], found: Mapping[str, int], exact_under: Iterable[str] = ()
) -> list[str]:
    """How `found` (path under the root -> size) differs from the listed `files`.

    Every listed file must be there with its size; under each of `exact_under` ('model/'),
    nothing else may be there either (Hadoop's checksum sidecars aside).
    """
    out = []
    for rel, size in sorted(files.items()):
        have = found.get(rel)
        if have is None:
            out.append(f"{rel} is missing")
        elif have != size:
            out.append(f"{rel} has {have} bytes, the manifest says {size}")
    for prefix in exact_under:
        extra = (r for r in found if r.startswith(prefix) and r not in files)
        out.extend(f"{r} is not in the manifest" for r in sorted(extra) if not is_sidecar(r))
    return out


def not_committed(folder: str, what: str = "a committed output") -> NotCommittedError:
    """The refusal of a folder without a manifest."""
    return NotCommittedError(
        f"{folder}: not {what}: there is no {MANIFEST}, so nothing was committed there (the "
        "job that writes it failed, was stopped, is still running, or wrote somewhere else). "
        "Re-run that job."
    )


def mismatch(folder: str, manifest: Manifest, found_problems: list[str]) -> OutputMismatchError:
    """The refusal of a folder whose files are not the ones its manifest lists."""
    shown = "; ".join(found_problems[:SHOWN_PROBLEMS])
    more = len(found_problems) - SHOWN_PROBLEMS
    writer = manifest.writer
    return OutputMismatchError(
        f"{folder}: its files do not match its {MANIFEST} ({writer.job}, attempt "
        f"{writer.attempt}, {writer.written_at}): {shown}"
        + (f" and {more} more" if more > 0 else "")
        + ". The output is damaged or was changed after it was written; re-run that job."
    )


def checked(
    folder: str,
    manifest_bytes: bytes | None,
    list_root: Callable[[str], Mapping[str, int]],
    exact_under: Iterable[str] = (),
    what: str = "a committed output",
) -> Manifest:
    """The manifest of `folder`, once its files are found to match it.

    `manifest_bytes` is what `<folder>/manifest.json` holds (None: there is none); the caller
    does the I/O: `list_root(root)` lists the files under `<folder>/<root>` as
    {path under it: size}. `what` names the kind of output in the refusal of a folder
    without a manifest ('a preprocess output').
    """
    if manifest_bytes is None:
        raise not_committed(folder, what)
    manifest = parse(manifest_bytes, f"{folder}/{MANIFEST}")
    found_problems = problems(manifest.files, list_root(manifest.root), exact_under)
    if found_problems:
        raise mismatch(folder, manifest, found_problems)
    return manifest
