"""Fixtures of the registry tests: a GCS emulator that honours preconditions, trained folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_registry import Registry, open_registry
from tests.committed import committed_files
from tests.served import served_emulator

MODELS_BUCKET = "acme-models"
WORK_BUCKET = "acme-pipeline-root"

INPUT_COLUMNS = [{"name": "customerID", "type": "string"}, {"name": "tenure", "type": "int"}]


def trained_files(auc_pr: float) -> dict[str, bytes]:
    """What a train/tune step leaves in its output folder (a stand-in Spark model)."""
    metrics = {"auc_pr": auc_pr, "auc_roc": auc_pr + 0.1, "f1": 0.5, "log_loss": 0.4}
    meta = {
        "model_version": "rf-20261130T020000Z",
        "classifier": "rf",
        "spark_version": "4.0.1",
        "input_columns": INPUT_COLUMNS,
    }
    return {
        "model/metadata/part-00000": b'{"class":"org.apache.spark.ml.PipelineModel"}',
        "model/metadata/_SUCCESS": b"",
        "model/stages/0_StringIndexer/data/part-00000.parquet": b"PAR1" + bytes(range(200)),
        "metrics.json": json.dumps(metrics).encode(),
        "model_meta.json": json.dumps(meta).encode(),
    }


gcs_server, gcs = served_emulator("gcs", (MODELS_BUCKET, WORK_BUCKET), scope="session")


class Backend:
    """One registry backend plus a way to put a trained folder where its runs write."""

    def __init__(self, kind: str, root: str, work: str, client=None, tmp: Path | None = None):
        self.kind, self.root, self.work, self.client, self.tmp = kind, root, work, client, tmp

    def registry(self) -> Registry:
        return open_registry(self.root, client=self.client)

    def trained(self, name: str, auc_pr: float) -> str:
        """Write a committed trained-model folder under the run's working location; its URI."""
        return self.write_output(name, committed_files(trained_files(auc_pr)))

    def write_output(self, name: str, files: dict[str, bytes]) -> str:
        """Write `files` (path -> bytes) under the run's working location; the folder's URI."""
        uri = f"{self.work}/{name}"
        for rel, data in files.items():
            if self.kind == "gcs":
                bucket, _, prefix = uri.removeprefix("gs://").partition("/")
                self.client.bucket(bucket).blob(f"{prefix}/{rel}").upload_from_string(data)
            else:
                path = Path(uri.removeprefix("file://")) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return uri

    def put(self, key: str, data: bytes) -> None:
        """Write an object in the registry behind its back (corruption, half versions)."""
        if self.kind == "gcs":
            self.client.bucket(MODELS_BUCKET).blob(f"registry/{key}").upload_from_string(data)
        else:
            path = Path(self.root.removeprefix("file://")) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def names(self) -> set[str]:
        if self.kind == "gcs":
            return {
                b.name.removeprefix("registry/")
                for b in self.client.list_blobs(MODELS_BUCKET, prefix="registry/")
            }
        root = Path(self.root.removeprefix("file://"))
        return {
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and not p.name.endswith(".lock")
        }


@pytest.fixture(params=["local", "gcs"])
def backend(request, tmp_path) -> Backend:
    if request.param == "gcs":
        client = request.getfixturevalue("gcs")
        return Backend(
            "gcs",
            f"gs://{MODELS_BUCKET}/registry",
            f"gs://{WORK_BUCKET}/runs/job-1",
            client=client,
        )
    return Backend(
        "local", (tmp_path / "models").as_uri(), (tmp_path / "work").as_uri(), tmp=tmp_path
    )
