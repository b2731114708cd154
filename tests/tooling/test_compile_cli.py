"""compile.py as CI runs it: --check, a pipeline that fails to compile, --target."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of what compile.py needs, so a test can break a pipeline without touching ours."""
    for name in ("compile.py", "components", "pipelines", "tooling", "trigger", "build"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def compile_py(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "compile.py", *args], cwd=repo, capture_output=True, text=True
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_check_passes_on_the_committed_build(repo):
    done = compile_py(repo, "--check")
    assert done.returncode == 0, done.stderr
    assert "up to date (4 templates)" in done.stdout


def test_check_names_stale_missing_and_orphaned_files(repo):
    (repo / "build/vertex/churn-training.yaml").write_text("stale\n")
    (repo / "build/local/churn-scoring.yaml").unlink()
    (repo / "build/local/old-pipeline.yaml").write_text("x\n")
    before = snapshot(repo / "build")
    done = compile_py(repo, "--check")
    assert done.returncode == 1
    assert "build/vertex/churn-training.yaml: differs" in done.stderr
    assert "build/local/churn-scoring.yaml: missing" in done.stderr
    assert "build/local/old-pipeline.yaml: no pipeline compiles to it" in done.stderr
    assert snapshot(repo / "build") == before  # --check writes nothing


def test_compile_repairs_what_check_reported(repo):
    (repo / "build/vertex/churn-training.yaml").write_text("stale\n")
    (repo / "build/local/old-pipeline.yaml").write_text("x\n")
    assert compile_py(repo).returncode == 0
    assert compile_py(repo, "--check").returncode == 0
    assert not (repo / "build/local/old-pipeline.yaml").exists()
    assert snapshot(repo / "build") == snapshot(ROOT / "build")


def test_a_pipeline_that_fails_to_compile_is_named_and_nothing_is_written(repo):
    (repo / "pipelines/broken_one.py").write_text(
        "from kfp import dsl\n"
        "NAME = 'broken-one'\n"
        "def build(spark_step):\n"
        "    @dsl.pipeline(name=NAME)\n"
        "    def broken(x: str):\n"
        "        spark_step('train', ['--input', undefined_name], run=None, settings=None)\n"
        "    return broken\n"
    )
    (repo / "build/vertex/churn-training.yaml").write_text("stale\n")
    before = snapshot(repo / "build")
    done = compile_py(repo)
    assert done.returncode == 1
    assert "pipeline 'broken-one' (vertex): NameError" in done.stderr
    assert "undefined_name" in done.stderr
    assert "nothing written to build/" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(repo / "build") == before


def test_a_pipeline_module_that_does_not_import_is_named(repo):
    (repo / "pipelines/syntax_error.py").write_text("def build(:\n")
    done = compile_py(repo, "--check")
    assert done.returncode == 1
    assert "pipeline 'syntax-error'" in done.stderr and "SyntaxError" in done.stderr


def test_target_compiles_one_target_only(repo):
    (repo / "build/local/churn-training.yaml").write_text("stale\n")
    assert compile_py(repo, "--target", "vertex").returncode == 0
    assert (repo / "build/local/churn-training.yaml").read_text() == "stale\n"
    done = compile_py(repo, "--check", "--target", "local")
    assert done.returncode == 1 and "build/local/churn-training.yaml" in done.stderr
