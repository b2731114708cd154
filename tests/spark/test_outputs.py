"""A Spark output is whole or refused: committed by its manifest, read exactly as listed.

The defect this guards against, measured before manifests: one stale extra data file beside the
committed one (a retried batch, a half-done folder rename on a bucket without hierarchical
namespace) and train fitted on twice the rows; a folder whose data files were gone failed with a
Spark error that did not name the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import preprocess
import pytest
import sample_data
import score
import train
from churn import io, jobs, outputs
from churn.errors import InputError

from tests.committed import listed, listed_parquet

REPO = Path(__file__).resolve().parents[2]
ROWS = 300


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def attempts(folder: Path) -> list[str]:
    return sorted(p for p in os.listdir(folder) if p.startswith("attempt-"))


# --- without Spark: the commit protocol on local paths -----------------------------------------


def test_a_commit_replaces_the_previous_output_and_a_failure_leaves_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with outputs.committing(None, str(out), "job") as attempt:
        io.write_text(None, attempt.uri("a.txt"), "first")
    first = outputs.open_committed(None, str(out))
    assert sorted(first.manifest.files) == ["a.txt"]
    assert first.manifest.writer.job == "job" and first.manifest.rows is None
    # a second run replaces the previous result, and the previous attempt's files go
    with outputs.committing(None, str(out), "job") as attempt:
        io.write_text(None, attempt.uri("b.txt"), "second")
    second = outputs.open_committed(None, str(out))
    assert sorted(second.manifest.files) == ["b.txt"]
    assert sorted(os.listdir(out)) == sorted(["manifest.json", second.manifest.root])
    # a run that raises after writing leaves the committed output exactly as it was
    with pytest.raises(RuntimeError), outputs.committing(None, str(out), "job") as attempt:
        io.write_text(None, attempt.uri("c.txt"), "partial")
        raise RuntimeError("boom")
    assert outputs.open_committed(None, str(out)).manifest == second.manifest
    assert sorted(os.listdir(out)) == sorted(["manifest.json", second.manifest.root])
    # a first run that fails leaves nothing at all
    with pytest.raises(RuntimeError), outputs.committing(None, str(tmp_path / "x"), "j") as a:
        io.write_text(None, a.uri("c.txt"), "partial")
        raise RuntimeError("boom")
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_job_that_writes_nothing_commits_nothing(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="wrote no files"),
        outputs.committing(None, str(tmp_path / "out"), "job"),
    ):
        pass
    assert not (tmp_path / "out").exists()


def test_the_manifest_write_is_one_replace_of_one_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "manifest.json"
    io.write_atomic(None, str(target), b"old")
    inode = target.stat().st_ino
    io.write_atomic(None, str(target), b"new")
    assert target.read_bytes() == b"new" and target.stat().st_ino != inode  # a new file, moved
    assert os.listdir(target.parent) == ["manifest.json"]  # no temporary left beside it


# --- with Spark: preprocess -> train -> score on the committed files --------------------------


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("raw") / "raw.csv"
    assert sample_data.main(["--rows", str(ROWS), "--seed", "5", "--output", str(path)]) == 0
    return path


@pytest.fixture
def prepared(spark, raw: Path, tmp_path: Path) -> Path:
    out = tmp_path / "prep"
    assert preprocess.main(["--input", str(raw), "--output", str(out)]) == 0
    return out


def run_train(prepared: Path, out: Path, capsys) -> tuple[int, dict, str]:
    capsys.readouterr()
    code = train.main(["--input", str(prepared), "--output", str(out), "--seed", "3"])
    printed, err = capsys.readouterr()
    body = printed.partition("\nsummary: ")[0]
    return code, (json.loads(body) if code == 0 else {}), err


@pytest.mark.spark
def test_preprocess_commits_its_files_rows_and_writer(prepared: Path) -> None:
    manifest = manifest_of(prepared)
    assert manifest["rows"] == ROWS
    assert manifest["writer"]["job"] == "preprocess"
    assert manifest["writer"]["attempt"] == manifest["root"]
    assert manifest["writer"]["spark_version"]
    assert "report.json" in manifest["files"]
    assert listed_parquet(prepared), "data files are listed"
    for rel, size in manifest["files"].items():
        assert (prepared / manifest["root"] / rel).stat().st_size == size


@pytest.mark.spark
def test_a_stale_leftover_beside_the_committed_data_is_not_read(
    prepared: Path, tmp_path: Path, capsys
) -> None:
    root = prepared / manifest_of(prepared)["root"]
    part = Path(listed_parquet(prepared)[0])
    # a second copy of the data in the committed folder, and a whole abandoned attempt
    shutil.copy(part, part.with_name("part-99999-stale.snappy.parquet"))
    shutil.copytree(root, prepared / "attempt-20000101t000000z-deadbeef")
    code, metrics, err = run_train(prepared, tmp_path / "train", capsys)
    assert code == 0, err
    assert metrics["n_train"] + metrics["n_test"] == ROWS  # not twice, not thrice


@pytest.mark.spark
@pytest.mark.parametrize("damage", ["missing", "truncated", "no manifest"])
def test_a_damaged_preprocess_output_is_refused_naming_the_folder(
    prepared: Path, tmp_path: Path, capsys, damage: str
) -> None:
    part = Path(listed_parquet(prepared)[0])
    if damage == "missing":
        part.unlink()
        expected = f"{part.name} is missing"
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[:-10])
        expected = "bytes, the manifest says"
    else:
        (prepared / "manifest.json").unlink()
        expected = "not a preprocess output: there is no manifest.json"
    out = tmp_path / "train"
    code, _, err = run_train(prepared, out, capsys)
    assert code == 2
    assert err.startswith(f"error: {prepared}: ") and expected in err, err
    assert not out.exists()


@pytest.mark.spark
def test_a_writer_failing_before_its_manifest_leaves_the_previous_output_whole(
    spark, prepared: Path, raw: Path, monkeypatch
) -> None:
    before = manifest_of(prepared)
    written_when_it_failed = []

    def fail_after_the_data(*args, **kwargs):
        new = [a for a in attempts(prepared) if a != before["root"]]
        written_when_it_failed.extend(
            p.name for a in new for p in (prepared / a).rglob("*.parquet")
        )
        raise OSError("disk full while writing report.json")

    monkeypatch.setattr(io, "write_json", fail_after_the_data)
    with pytest.raises(OSError, match="disk full"):
        jobs.preprocess(str(raw), str(prepared))
    monkeypatch.undo()
    assert written_when_it_failed  # the new attempt's data files were there when it failed
    assert manifest_of(prepared) == before
    assert attempts(prepared) == [before["root"]]  # the failed attempt removed its own files
    assert jobs.read_prepared(spark, str(prepared)).count() == ROWS


KILLED_WRITER = """
import os, sys, time
sys.path.insert(0, {spark_dir!r})
from churn import io, jobs

def stop_here(*args, **kwargs):
    open({signal_file!r}, "w").close()  # the data files are written; the manifest is next
    time.sleep(600)

io.write_atomic = stop_here
jobs.preprocess({raw!r}, {out!r})
"""


@pytest.mark.spark
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_writer_killed_before_its_manifest_leaves_the_previous_output_whole(
    spark, prepared: Path, raw: Path, tmp_path: Path
) -> None:
    before = manifest_of(prepared)
    flag = tmp_path / "data-written"
    script = KILLED_WRITER.format(
        spark_dir=str(REPO / "spark"), signal_file=str(flag), raw=str(raw), out=str(prepared)
    )
    env = {k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"}
    writer = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 240
        while not flag.exists():
            assert writer.poll() is None, "the writer ended before it reached its manifest"
            assert time.monotonic() < deadline, "the writer never wrote its data"
            time.sleep(0.2)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    killed = [a for a in attempts(prepared) if a != before["root"]]
    assert len(killed) == 1 and list((prepared / killed[0] / "data").glob("*.parquet"))
    assert manifest_of(prepared) == before  # the previous commit stands
    assert jobs.read_prepared(spark, str(prepared)).count() == ROWS  # and is read whole
    # the next commit removes what the killed writer left
    assert preprocess.main(["--input", str(raw), "--output", str(prepared)]) == 0
    assert attempts(prepared) == [manifest_of(prepared)["root"]]


@pytest.mark.spark
def test_score_refuses_a_model_folder_with_a_file_its_manifest_does_not_list(
    prepared: Path, tmp_path: Path, capsys
) -> None:
    model = tmp_path / "train"
    assert run_train(prepared, model, capsys)[0] == 0
    stray = listed(model, "model/metadata") / "part-00001"
    stray.write_text('{"class": "a stage left by another attempt"}')
    customers = tmp_path / "new.csv"
    assert sample_data.main(["--rows", "20", "--output", str(customers), "--scoring"]) == 0
    capsys.readouterr()
    args = ["--model", str(model), "--input", str(customers), "--output", str(tmp_path / "s")]
    assert score.main(args) == 2
    err = capsys.readouterr().err
    assert f"{model}: its files do not match its manifest.json" in err
    assert "model/metadata/part-00001 is not in the manifest" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.spark
def test_the_protocol_through_the_hadoop_filesystem(
    spark, raw: Path, tmp_path: Path, monkeypatch
) -> None:
    """gs:// goes through Spark's Hadoop FileSystem: the same calls, here on Hadoop's local FS
    (file:// URIs routed as if remote), checksum sidecars and all."""
    monkeypatch.setattr(io, "is_local", lambda uri: False)
    out = (tmp_path / "prep").as_uri()
    jobs.preprocess(raw.as_uri(), out)
    first = outputs.open_committed(spark, out)
    assert first.manifest.rows == ROWS
    assert not [r for r in first.manifest.files if r.endswith(".crc")]
    assert jobs.read_prepared(spark, out).count() == ROWS
    jobs.preprocess(raw.as_uri(), out)  # a second commit sweeps the first attempt away
    second = outputs.open_committed(spark, out)
    assert first.manifest.root not in io.children(spark, out)
    assert second.manifest.root in io.children(spark, out)
    victim = second.path(second.manifest.under("data/", ".parquet")[0])
    io.delete(spark, victim)
    with pytest.raises(InputError, match="is missing"):
        jobs.read_prepared(spark, out)


def test_churn_zip_alone_carries_the_manifest_format(tmp_path: Path) -> None:
    """What a Dataproc batch gets is churn.zip and nothing of the repository around it."""
    from tooling.publishing import spark_package_zip

    archive = tmp_path / "churn.zip"
    archive.write_bytes(spark_package_zip(REPO / "spark"))
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from churn import outputs; from churn.contract import outputs as spec; "
        "assert outputs.__file__.startswith(sys.argv[1]); print(spec.FORMAT)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(archive)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "churn-output/1"
