"""Committed outputs for tests: files laid out as a job commits them, with their manifest.

The manifest is built with contract/outputs.py itself, so a fixture is exactly what a Spark job
or the registry commits (files under an attempt folder, manifest.json naming them, written last).
"""

from __future__ import annotations

from pathlib import Path

from contract import outputs

ROOT = "attempt-20261130t020000z-0000test"
WRITTEN_AT = "2026-11-30T02:00:00+00:00"


def committed_files(
    files: dict[str, bytes], *, root: str = ROOT, job: str = "train", rows: int | None = None
) -> dict[str, bytes]:
    """`files` (path under the attempt folder -> bytes) as a committed output's objects."""
    manifest = outputs.Manifest(
        root=root,
        files={rel: len(data) for rel, data in files.items()},
        rows=rows,
        writer=outputs.Writer(job=job, attempt=root or "test", written_at=WRITTEN_AT),
    )
    laid_out = {manifest.key(rel): data for rel, data in files.items()}
    return {**laid_out, outputs.MANIFEST: outputs.to_bytes(manifest)}


def write_committed(folder: Path, files: dict[str, bytes], **options) -> Path:
    """Write a committed output into the local `folder`; the folder."""
    for rel, data in committed_files(files, **options).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def listed(folder: Path, rel: str) -> Path:
    """The path of the listed file `rel` of the committed output in `folder`."""
    manifest = outputs.parse((folder / outputs.MANIFEST).read_bytes(), str(folder))
    return folder / manifest.key(rel)


def listed_parquet(folder: Path, under: str = "data/") -> list[str]:
    """The paths of the listed Parquet files under `under` (what a reader reads)."""
    manifest = outputs.parse((folder / outputs.MANIFEST).read_bytes(), str(folder))
    return [str(folder / manifest.key(r)) for r in manifest.under(under, ".parquet")]
