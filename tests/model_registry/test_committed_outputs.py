"""The registry copies exactly what a train/tune output committed, and refuses what it did not:
on a local folder and on gs:// (GCS emulator, real google-cloud-storage client)."""

from __future__ import annotations

import json
import re

import pytest

from contract import outputs
from model_registry import NotFoundError
from model_registry.errors import DamagedVersionError
from tests.committed import ROOT, committed_files

from .conftest import trained_files

PART = "model/stages/0_StringIndexer/data/part-00000.parquet"


def register(backend, source: str, job: str = "job-a"):
    return backend.registry().register("churn", source, pipeline_job=job)


def test_a_stale_file_beside_the_committed_model_is_not_copied(backend):
    files = committed_files(trained_files(0.6))
    files[f"{ROOT}/model/stages/0_StringIndexer/data/part-00001.parquet"] = b"stale"
    files["attempt-20000101t000000z-deadbeef/metrics.json"] = b'{"auc_pr": 0.99}'
    info = register(backend, backend.write_output("train", files))
    assert set(info.manifest.files) == {*trained_files(0.6), "model_meta.json"}
    assert info.metrics["auc_pr"] == 0.6
    prefix = f"churn/versions/{info.version}/"
    assert not [n for n in backend.names() if n.startswith(prefix) and "part-00001" in n]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("no manifest", "not a train/tune output: there is no manifest.json"),
        ("missing", f"{PART} is missing"),
        ("truncated", f"{PART} has 3 bytes, the manifest says 204"),
    ],
)
def test_register_refuses_an_output_that_is_not_whole(backend, damage, message):
    files = committed_files(trained_files(0.6))
    if damage == "no manifest":
        del files[outputs.MANIFEST]
    elif damage == "missing":
        del files[f"{ROOT}/{PART}"]
    else:
        files[f"{ROOT}/{PART}"] = b"PAR"
    source = backend.write_output("train", files)
    with pytest.raises(NotFoundError, match=re.escape(message)) as caught:
        register(backend, source)
    assert str(caught.value).startswith(f"{source}: ")
    assert not backend.names()  # nothing registered, not even a half version


def test_an_output_that_lacks_a_model_is_not_registered(backend):
    files = trained_files(0.6)
    del files["model_meta.json"]
    source = backend.write_output("train", committed_files(files))
    with pytest.raises(NotFoundError, match=re.escape("lists no model_meta.json")):
        register(backend, source)


@pytest.mark.parametrize("damage", ["deleted", "truncated", "added"])
def test_a_damaged_version_is_refused_where_it_is_read(backend, damage):
    info = register(backend, backend.trained("train", 0.6))
    registry = backend.registry()
    registry.promote("churn", info.version)
    key = f"churn/versions/{info.version}/{PART}"
    if damage == "deleted":
        if backend.kind == "gcs":
            backend.client.bucket("acme-models").blob(f"registry/{key}").delete()
        else:
            (backend.tmp / "models" / key).unlink()
        expected = f"{PART} is missing"
    elif damage == "truncated":
        backend.put(key, b"PAR")
        expected = f"{PART} has 3 bytes"
    else:
        backend.put(f"churn/versions/{info.version}/model/stages/extra", b"x")
        expected = "model/stages/extra is not in the manifest"
    for read in (
        lambda: registry.version("churn", info.version),
        lambda: registry.resolve("churn@champion"),
    ):
        with pytest.raises(DamagedVersionError, match=re.escape(expected)) as caught:
            read()
        assert str(caught.value).startswith(f"{info.uri}: its files do not match")


def test_the_version_manifest_is_the_output_manifest_spark_reads(backend):
    info = register(backend, backend.trained("train", 0.6), job="job-z")
    stored = backend.registry().store.read(f"churn/versions/{info.version}/manifest.json")
    manifest = outputs.parse(stored.data, "version manifest")
    assert manifest.root == "" and manifest.files == info.manifest.files
    assert manifest.writer.job == "register" and manifest.writer.pipeline_job == "job-z"
    assert manifest.labels["model"] == "churn" and manifest.labels["version"] == info.version
    assert json.loads(stored.data)["format"] == outputs.FORMAT
