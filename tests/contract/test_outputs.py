"""The output manifest's format and the check every reader makes (contract/outputs.py)."""

from __future__ import annotations

import json

import pytest

from contract import outputs

WRITER = outputs.Writer("preprocess", "attempt-1", "2026-11-30T02:00:00+00:00", "4.0.1")
FILES = {"data/part-00000.parquet": 120, "data/_SUCCESS": 0, "report.json": 45}


def manifest(**overrides) -> outputs.Manifest:
    fields = {"root": "attempt-1", "files": dict(FILES), "rows": 400, "writer": WRITER}
    return outputs.Manifest(**{**fields, **overrides})


def test_a_manifest_survives_its_own_serialisation():
    written = manifest(labels={"model": "churn"})
    assert outputs.parse(outputs.to_bytes(written), "m") == written
    assert written.key("report.json") == "attempt-1/report.json"
    assert manifest(root="").key("report.json") == "report.json"
    assert written.under("data/", ".parquet") == ["data/part-00000.parquet"]


def body(**changes) -> bytes:
    value = json.loads(outputs.to_bytes(manifest()))
    value.update(changes)
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{nope", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (body(format="churn-output/0"), "field 'format' is 'churn-output/0'"),
        (body(root=None), "field 'root' is missing"),
        (body(root="../other"), "'../other' is not a relative path"),
        (body(files={}), "field 'files' must map"),
        (body(files={"/etc/passwd": 3}), "'/etc/passwd' is not a relative path"),
        (body(files={"a//b": 3}), "'a//b' is not a relative path"),
        (body(files={"a\\b": 3}), "is not a relative path"),
        (body(files={"a\nb": 3}), "is not a relative path"),
        (body(files={"a": -1}), "size of 'a' is not a byte count"),
        (body(files={"a": True}), "size of 'a' is not a byte count"),
        (body(rows=-3), "field 'rows' must be a row count"),
        (body(rows="400"), "field 'rows' must be a row count"),
        (body(writer={"job": "x"}), "field 'writer' has no attempt, written_at"),
        (body(writer=[]), "field 'writer' must map names to strings"),
        (body(labels={"a": 1}), "field 'labels' must map names to strings"),
        (body(root="", files={"manifest.json": 3}), "lists the manifest itself"),
    ],
)
def test_a_malformed_manifest_is_refused_naming_the_field(data, message):
    with pytest.raises(outputs.ManifestError, match=message) as caught:
        outputs.parse(data, "gs://b/run/prep/manifest.json")
    assert str(caught.value).startswith("gs://b/run/prep/manifest.json: ")


def test_problems_name_missing_and_resized_files_and_extras_where_exact():
    found = {"data/part-00000.parquet": 119, "report.json": 45, "data/part-stale.parquet": 120}
    assert outputs.problems(FILES, found) == [
        "data/_SUCCESS is missing",
        "data/part-00000.parquet has 119 bytes, the manifest says 120",
    ]
    exact = outputs.problems(FILES, {**FILES, "data/x": 1, "data/.x.crc": 1}, ["data/"])
    assert exact == ["data/x is not in the manifest"]  # Hadoop's checksum sidecar is not
    assert outputs.problems(FILES, {**FILES, "elsewhere": 1}, ["data/"]) == []


def test_checked_reads_lists_and_refuses_with_the_folder_named():
    folder = "gs://b/run/prep"
    listed_roots = []

    def list_root(root):
        listed_roots.append(root)
        return dict(FILES)

    data = outputs.to_bytes(manifest())
    assert outputs.checked(folder, data, list_root).rows == 400
    assert listed_roots == ["attempt-1"]
    with pytest.raises(
        outputs.NotCommittedError, match=f"^{folder}: not a preprocess output: "
    ) as caught:
        outputs.checked(folder, None, list_root, what="a preprocess output")
    assert "there is no manifest.json" in str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    many = {f"data/p{i}.parquet": 1 for i in range(8)}
    with pytest.raises(outputs.OutputMismatchError) as caught:
        outputs.checked(folder, outputs.to_bytes(manifest(files=many)), lambda root: {})
    message = str(caught.value)
    assert message.startswith(f"{folder}: its files do not match its manifest.json")
    assert "(preprocess, attempt attempt-1, 2026-11-30T02:00:00+00:00)" in message
    assert "data/p0.parquet is missing" in message and "and 3 more" in message
