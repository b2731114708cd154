"""Run a pipeline on this machine: the local template, KFP's local runner, local Spark, a report."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

import pipelines
from tooling import compiling, params
from contract.params import declared_parameters

SPARK_DIR = Path("spark").resolve()
RUNS_DIR = Path("runs")
SAMPLE_ROWS = 7043  # the size of the public Telco churn file
SAMPLE_SEED = 42


class RunError(Exception):
    """The run could not start or a step failed; the message says which and why."""


class StepTimer(logging.Filter):
    """Collects each task's wall time and status from kfp.local's own log lines.

    A filter on the root logger rather than a handler: kfp.local swaps the root handlers for its
    own while it runs, but leaves filters alone. It never drops a record.
    """

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.status: dict[str, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = _strip_ansi(record.getMessage())
        begin = re.match(r"Executing task '([^']+)'", message)
        end = re.match(r"Task '([^']+)' finished with status (\w+)", message)
        if begin:
            self.started[begin.group(1)] = time.monotonic()
        elif end and end.group(1) in self.started:
            task = end.group(1)
            self.seconds[task] = time.monotonic() - self.started[task]
            self.status[task] = end.group(2)
        return True


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    pipeline: str
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    step_seconds: dict[str, float]
    total_seconds: float


def display_names(template: dict) -> dict[str, str]:
    """Task key -> the display name the pipeline gave it, across nested (condition) DAGs."""
    names = {}
    dags = [template.get("root", {}).get("dag", {})]
    dags += [c.get("dag", {}) for c in template.get("components", {}).values()]
    for dag in dags:
        for key, task in (dag.get("tasks") or {}).items():
            names[key] = (task.get("taskInfo") or {}).get("name", key)
    return names


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def new_run_id(pipeline: str) -> str:
    return f"{pipeline}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


def generate_sample(path: Path, *, scoring: bool = False, rows: int = SAMPLE_ROWS) -> Path:
    """Write the seeded sample customers file with spark/sample_data.py."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(SPARK_DIR / "sample_data.py"),
        "--rows",
        str(rows),
        "--seed",
        str(SAMPLE_SEED + (1 if scoring else 0)),
        "--output",
        str(path),
    ]
    if scoring:
        command.append("--scoring")
    done = subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RunError(
            f"generating sample data failed (exit {done.returncode}): {' '.join(command)}"
        )
    return path


def latest_trained_model(runs_dir: Path = RUNS_DIR) -> str | None:
    """The model_uri of the newest successful local churn-training run, if any."""
    candidates = sorted(runs_dir.glob("churn-training-*/outputs.json"), reverse=True)
    for path in candidates:
        outputs = json.loads(path.read_text()).get("outputs", {})
        if outputs.get("model_uri"):
            return outputs["model_uri"]
    return None


def default_parameters(
    pipeline: str, given: set[str], run_dir: Path
) -> tuple[dict[str, Any], list[tuple[Path, bool]]]:
    """What a local run fills in when the user did not, and the sample files to generate then.

    Returns (defaults, samples) where each sample is (path, is_scoring_file); nothing is written
    here, so bad parameters are reported before anything lands on disk.
    """
    defaults: dict[str, Any] = {"spark_code_uri": str(SPARK_DIR)}
    samples: list[tuple[Path, bool]] = []
    if pipeline == "churn-training" and "raw_data_uri" not in given:
        samples.append((run_dir / "data" / "customers.csv", False))
        defaults["raw_data_uri"] = str(samples[-1][0])
    if pipeline == "churn-scoring":
        if "customers_uri" not in given:
            samples.append((run_dir / "data" / "new_customers.csv", True))
            defaults["customers_uri"] = str(samples[-1][0])
        if "model_uri" not in given:
            model = latest_trained_model(run_dir.parent)
            if model is None:
                raise RunError(
                    "churn-scoring needs a model: run `python run.py churn-training` first, or "
                    "pass --param model_uri=<a churn-training model folder>"
                )
            defaults["model_uri"] = model
    return defaults, samples


def run_pipeline(
    pipeline: str, assignments: list[str], runs_dir: Path = RUNS_DIR, run_id: str | None = None
) -> RunResult:
    """Compile the local template of `pipeline`, run it with kfp.local, and return its outputs."""
    from kfp import local
    from kfp.components import load_component_from_file

    known = {p.name: p for p in pipelines.discover()}
    if pipeline not in known:
        raise RunError(f"unknown pipeline '{pipeline}'; known: {', '.join(sorted(known))}")
    found = known[pipeline]
    if found.error is not None:
        raise RunError(f"pipeline '{pipeline}' does not import: {found.error}")

    run_id = run_id or new_run_id(pipeline)
    run_dir = (runs_dir / run_id).resolve()
    if run_dir.exists():
        raise RunError(f"{run_dir} exists already; pick another run id")
    template_text = compiling.compile_one(found.module.build, "local")
    template = yaml.safe_load(template_text)
    decls = declared_parameters(template)
    names = display_names(template)

    given = {item.partition("=")[0].strip() for item in assignments}
    defaults, samples = default_parameters(pipeline, given, run_dir)
    try:
        values = params.parse_assignments(assignments, decls, defaults)
    except params.ParamError as err:
        raise RunError(str(err)) from err

    run_dir.mkdir(parents=True)
    template_path = run_dir / "pipeline.yaml"
    template_path.write_text(template_text, encoding="utf-8")
    for path, scoring in samples:
        kind = "new customers (no Churn column)" if scoring else "customers"
        print(f"generating {SAMPLE_ROWS} sample {kind} (seed {SAMPLE_SEED}) at {path}", flush=True)
        generate_sample(path, scoring=scoring)

    # Display names are for the Vertex AI console; the local runner says so once per task.
    warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(run_dir / "kfp"),
        raise_on_error=False,
    )
    timer = StepTimer()
    logging.getLogger().addFilter(timer)
    started = time.monotonic()
    try:
        task = load_component_from_file(str(template_path))(**values)
    finally:
        logging.getLogger().removeFilter(timer)
    total = time.monotonic() - started

    failed = [names.get(t, t) for t, status in timer.status.items() if status != "SUCCESS"]
    if failed or not task.outputs:
        raise RunError(
            f"pipeline '{pipeline}' failed at step(s): {', '.join(failed) or 'unknown'}; "
            f"the step's log is above, its files under {run_dir / 'kfp'}"
        )
    result = RunResult(
        run_id=run_id,
        run_dir=run_dir,
        pipeline=pipeline,
        # what the run used, declared defaults included (the report shows the gate's settings)
        parameters={n: d.default for n, d in decls.items() if d.optional} | values,
        outputs=dict(task.outputs),
        step_seconds={names.get(task, task): sec for task, sec in timer.seconds.items()},
        total_seconds=total,
    )
    (run_dir / "outputs.json").write_text(
        json.dumps(
            {
                "pipeline": pipeline,
                "parameters": result.parameters,
                "outputs": result.outputs,
                "step_seconds": result.step_seconds,
                "total_seconds": total,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return result
