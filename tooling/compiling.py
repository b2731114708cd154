"""Compile every pipeline for a target into deterministic YAML; check that build/ is current."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kfp import compiler

import pipelines
from components.spark_step import TARGETS, spark_step_for

BUILD_DIR = Path("build")


@dataclass(frozen=True)
class Compiled:
    """One pipeline compiled for one target: its YAML text, or the error compiling it raised."""

    pipeline: str
    target: str
    text: str | None = None
    error: str | None = None

    @property
    def relative_path(self) -> Path:
        return Path(self.target) / f"{self.pipeline}.yaml"


def compile_all(targets: tuple[str, ...] = TARGETS) -> list[Compiled]:
    """Compile every pipeline in pipelines/ for each target, in memory."""
    results = []
    for found in pipelines.discover():
        for target in targets:
            if found.error is not None:
                message = f"{type(found.error).__name__}: {found.error}"
                results.append(Compiled(found.name, target, error=f"import failed: {message}"))
                continue
            try:
                text = compile_one(found.module.build, target)
            except Exception as err:  # reported per pipeline, never a traceback
                results.append(Compiled(found.name, target, error=f"{type(err).__name__}: {err}"))
                continue
            results.append(Compiled(found.name, target, text=text))
    return results


def compile_one(build, target: str) -> str:
    """The YAML text of `build(spark_step_for(target))`, compiled by the KFP compiler."""
    pipeline_func = build(spark_step_for(target))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline_func, str(path))
        return path.read_text(encoding="utf-8")


def failures(results: list[Compiled]) -> list[Compiled]:
    return [r for r in results if r.error is not None]


def write(results: list[Compiled], build_dir: Path = BUILD_DIR) -> list[Path]:
    """Write compiled templates into build_dir; all or nothing.

    Refuses (ValueError) when any result failed, so build/ never holds a half-updated set. Each
    file is written to a temporary name and renamed into place. Templates of pipelines that no
    longer exist are removed from the compiled targets' folders.
    """
    if failures(results):
        raise ValueError("refusing to write build/: some pipelines failed to compile")
    written = []
    for result in results:
        path = build_dir / result.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text(encoding="utf-8") == result.text:
            continue
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(result.text)
        os.replace(tmp, path)
        written.append(path)
    for target in {r.target for r in results}:
        expected = {r.relative_path.name for r in results if r.target == target}
        for stale in sorted((build_dir / target).glob("*.yaml")):
            if stale.name not in expected:
                stale.unlink()
                written.append(stale)
    return written


def stale_files(results: list[Compiled], build_dir: Path = BUILD_DIR) -> list[str]:
    """What in build_dir differs from what the code compiles to: one line per file."""
    problems = []
    for result in results:
        path = build_dir / result.relative_path
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != result.text:
            problems.append(f"{path}: differs from what the pipeline code compiles to")
    for target in sorted({r.target for r in results}):
        expected = {r.relative_path.name for r in results if r.target == target}
        for extra in sorted((build_dir / target).glob("*.yaml")):
            if extra.name not in expected:
                problems.append(f"{extra}: no pipeline compiles to it any more")
    return problems
