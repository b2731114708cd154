"""Benchmark: resolving an alias and promoting, against the GCS emulator (figures printed).

    .venv/bin/python bench/registry.py [--versions 20] [--repeat 50] [--files 40]

Registers `--versions` versions (each a stand-in Spark model of `--files` objects) through the
real google-cloud-storage client, then times: register (server-side copies + manifest), resolve
`churn@champion` (pointer read + manifest/metrics/meta reads: what a scoring run does once),
promote (one conditional pointer write + one history object), rollback, and `models.py list`.
The same on the local-folder backend for comparison. The emulator runs in this process over
HTTP on localhost, so the figures count requests and client overhead, not Cloud Storage latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fakes.gcs import gcs_emulator  # noqa: E402
from model_registry import Registry, open_registry  # noqa: E402
from tests.committed import write_committed  # noqa: E402

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def trained_folder(root: Path, files: int, auc: float) -> Path:
    """A committed train output with `files` model objects of a few KB, metrics and meta."""
    content = {f"model/stages/{i:03d}/part-00000.parquet": bytes(4096) for i in range(files)}
    content["metrics.json"] = json.dumps({"auc_pr": auc, "auc_roc": auc + 0.1}).encode()
    content["model_meta.json"] = json.dumps({"input_columns": [], "classifier": "rf"}).encode()
    return write_committed(root, content)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and max wall time of `fn` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def upload_folder(client, folder: Path, bucket: str, prefix: str) -> str:
    for path in folder.rglob("*"):
        if path.is_file():
            name = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.bucket(bucket).blob(name).upload_from_filename(str(path))
    return f"gs://{bucket}/{prefix}"


def run(registry: Registry, sources: list[str], repeat: int, label: str) -> None:
    start = time.perf_counter()
    versions = [
        registry.register("churn", src, pipeline_job=f"job-{i}", now=T0 + timedelta(days=7 * i))
        for i, src in enumerate(sources)
    ]
    register_ms = (time.perf_counter() - start) * 1000 / len(sources)
    registry.promote("churn", versions[0].version)
    names = iter(versions[1:] * (repeat // max(1, len(versions) - 1) + 2))
    print(f"{label}: {len(versions)} versions, {len(versions[0].manifest.files)} objects each")
    print(f"  register (copy + manifest)   {register_ms:8.1f} ms per version")
    for what, fn in (
        ("resolve churn@champion", lambda: registry.resolve("churn@champion")),
        ("promote (pointer + history)", lambda: registry.promote("churn", next(names).version)),
        ("rollback", lambda: registry.rollback("churn")),
        ("list versions", lambda: registry.versions("churn")),
    ):
        median, worst = timed(fn, repeat if what != "list versions" else max(3, repeat // 10))
        print(f"  {what:28} {median:8.1f} ms median, {worst:8.1f} ms max")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folders = [
            trained_folder(Path(tmp) / f"train-{i}", args.files, 0.6 + i / 1000)
            for i in range(args.versions)
        ]
        with gcs_emulator(buckets=("bench-models", "bench-root")):
            from google.cloud import storage

            client = storage.Client(project="bench")
            sources = [
                upload_folder(client, f, "bench-root", f"runs/{i}/train")
                for i, f in enumerate(folders)
            ]
            run(
                open_registry("gs://bench-models/registry", client=client),
                sources,
                args.repeat,
                "GCS emulator",
            )
        run(
            open_registry(str(Path(tmp) / "models")),
            [str(f) for f in folders],
            args.repeat,
            "local folder",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
