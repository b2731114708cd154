"""Run a pipeline on this machine: the local template, KFP's local runner, local Spark, a report.

A local run is the `local` environment: the deployment-owned parameters (contract/ownership.py)
are set here from local defaults (the repository's spark/ folder, a local data folder, the local
model registry under runs/models, runs/predictions), never by the user. What differs between
pipelines (which parameter names the data file, which sample to generate, what the summary
shows) is declared by the pipeline module itself (`LOCAL_RUN`, pipelines/declarations.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

import pipelines
from contract.ownership import check_relative_path, owner_of
from contract.params import ParamDecl, declared_parameters
from local import SPARK_MODES, params, step_text
from local.kept_spark import KeptServerError, KeptSparkServer, idle_minutes_from_env
from local.run_console import PIPELINE_LOG, LogRouter, StepConsole, StepRecord
from local.spark_server import LocalSparkServer, ServerError, scoped_env
from local.warm_python import WarmPython, WarmPythonError
from pipelines.declarations import NOTHING_DECLARED, LocalRun, SampleData
from tooling import compiling

ROOT = Path(__file__).resolve().parents[1]
SPARK_DIR = ROOT / "spark"
RUNS_DIR = Path("runs")
#: Where `--param <data parameter>=relative/path.csv` is read from when --data is not given.
DATA_DIR = ROOT / "data"
ENVIRONMENT = "local"


class RunError(Exception):
    """The run could not start or a step failed; the message says which and why."""


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    pipeline: str
    parameters: dict[str, Any]
    outputs: dict[str, Any]
    step_seconds: dict[str, float]
    total_seconds: float
    spec: LocalRun = NOTHING_DECLARED
    steps: dict[str, StepRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOptions:
    """How to run: `data` is a file of the user's (sets data_uri + the data parameter)."""

    data: Path | None = None
    verbose: bool = False
    #: SPARK_MODES: "kept" (one Spark Connect server kept warm between runs, run.py's
    #: default), "run" (one for this run, stopped at its end), "step" (a JVM per Spark step).
    spark: str = "run"
    out: TextIO | None = None

    def __post_init__(self) -> None:
        if self.spark not in SPARK_MODES:
            raise RunError(f"spark mode {self.spark!r}: choose one of {', '.join(SPARK_MODES)}")


def display_names(template: dict) -> dict[str, str]:
    """kfp.local's name of a task -> the display name the pipeline gave it, in every DAG.

    kfp.local names a task in its log lines (and its output folder) after the task's component,
    `comp-<name>` -> `<name>` (kfp/local/task_dispatcher.py), not after its task key: keys
    repeat across DAGs (a sub-pipeline's `evaluate` beside the outer one), component names do
    not. A component that tasks of different display names share keeps its own name.
    """
    found: dict[str, set[str]] = {}
    dags = [template.get("root", {}).get("dag", {})]
    dags += [c.get("dag", {}) for c in template.get("components", {}).values()]
    for dag in dags:
        for key, task in (dag.get("tasks") or {}).items():
            component = (task.get("componentRef") or {}).get("name", key).removeprefix("comp-")
            shown = (task.get("taskInfo") or {}).get("name", key)
            found.setdefault(component, set()).add(shown)
    return {name: next(iter(shown)) if len(shown) == 1 else name for name, shown in found.items()}


def new_run_id(pipeline: str) -> str:
    return f"{pipeline}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


def generate_sample(path: Path, sample: SampleData) -> Path:
    """Write the seeded sample customers file with spark/sample_data.py."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(SPARK_DIR / "sample_data.py"),
        f"--rows={sample.rows}",
        f"--seed={sample.seed}",
        f"--output={path}",
    ]
    if sample.scoring:
        command.append("--scoring")
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RunError(
            f"generating sample data failed (exit {done.returncode}): {' '.join(command)}\n"
            + done.stderr[-2000:]
        )
    return path


def spec_of(module: Any) -> LocalRun:
    """The module's LOCAL_RUN declaration, or the empty one."""
    spec = getattr(module, "LOCAL_RUN", None)
    return spec if isinstance(spec, LocalRun) else NOTHING_DECLARED


def refuse_deployment_parameters(assignments: list[str]) -> None:
    """A local run sets the deployment's parameters itself, as a published template does."""
    refused = [
        name
        for name in (item.partition("=")[0].strip() for item in assignments)
        if owner_of(name) == "deployment"
    ]
    if refused:
        raise RunError(
            "\n".join(
                f"--param {name}: belongs to the deployment (for a local run, run.py sets it: "
                "code from spark/, data from --data FILE or the generated sample, models in "
                "runs/models, predictions in runs/predictions); remove it"
                for name in refused
            )
        )


@dataclass
class LocalPlan:
    """The deployment values of a local run and the sample files to write (nothing written yet)."""

    defaults: dict[str, Any]
    samples: list[tuple[Path, SampleData]]


def plan_local(
    spec: LocalRun,
    decls: dict[str, ParamDecl],
    given: set[str],
    run_dir: Path,
    runs_dir: Path,
    data: Path | None,
) -> LocalPlan:
    """The `local` environment's values for the parameters this template declares."""
    deployment: dict[str, Any] = {
        "spark_code_uri": str(SPARK_DIR),
        "models_uri": str((runs_dir / "models").resolve()),
        "predictions_uri": str((runs_dir / "predictions").resolve()),
        "environment": ENVIRONMENT,
        "data_uri": str(DATA_DIR),
    }
    samples: list[tuple[Path, SampleData]] = []
    data_param = spec.data_parameter
    if data is not None:
        if data_param is None or data_param not in decls:
            raise RunError("--data: this pipeline declares no data file parameter")
        if data_param in given:
            raise RunError(f"--data and --param {data_param} both name the data; give one")
        if not data.is_file():
            raise RunError(f"--data {data}: no such file")
        deployment["data_uri"] = str(data.resolve().parent)
        deployment[data_param] = data.name
    elif data_param in decls and data_param not in given and spec.sample is not None:
        folder = run_dir / "data"
        samples.append((folder / spec.sample.file_name, spec.sample))
        deployment["data_uri"] = str(folder)
        deployment[data_param] = spec.sample.file_name
    defaults = {name: value for name, value in deployment.items() if name in decls}
    return LocalPlan(defaults=defaults, samples=samples)


def _check_paths(spec: LocalRun, values: dict[str, Any]) -> None:
    name = spec.data_parameter
    if name and isinstance(values.get(name), str):
        problem = check_relative_path(values[name])
        if problem:
            raise RunError(f"--param {name}: {values[name]!r} {problem} (or use --data FILE)")


def _check_spark(options: RunOptions) -> None:
    """A kept server's idle time comes from the environment: checked before anything starts."""
    if options.spark == "kept":
        try:
            idle_minutes_from_env()
        except KeptServerError as err:
            raise RunError(str(err)) from err


def _find(pipeline: str) -> Any:
    known = {p.name: p for p in pipelines.discover()}
    if pipeline not in known:
        raise RunError(f"unknown pipeline '{pipeline}'; known: {', '.join(sorted(known))}")
    found = known[pipeline]
    if found.error is not None:
        raise RunError(f"pipeline '{pipeline}' does not import: {found.error}")
    return found.module


def _failure(console: StepConsole, run_dir: Path) -> RunError:
    failed = [s for s in console.steps.values() if s.status not in (None, "SUCCESS")]
    failed = failed or [s for s in console.steps.values() if not s.done or s.figure == "FAILED"]
    if not failed:
        log = run_dir / "logs" / f"{PIPELINE_LOG}.log"
        return RunError(f"the pipeline did not finish; see {log}")
    step = failed[-1]
    text = step.log_path.read_text(encoding="utf-8", errors="replace")
    lines = "\n".join(f"    {line}" for line in step_text.error_excerpt(text))
    return RunError(f"step '{step.name}' failed:\n{lines}\n  full log: {step.log_path}")


def _execute(
    template_path: Path,
    values: dict[str, Any],
    run_dir: Path,
    names: dict[str, str],
    options: RunOptions,
    shared: SharedProcesses | None,
) -> tuple[dict[str, Any], StepConsole, float]:
    from kfp import local
    from kfp.components import load_component_from_file

    out = options.out or sys.stdout
    # Display names are for the Vertex AI console; the local runner says so once per task.
    warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
    # The components image is what Vertex AI runs; locally this interpreter has the same code.
    warnings.filterwarnings("ignore", message="You may be attemping to run a task that uses")
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(run_dir / "kfp"),
        raise_on_error=False,
    )
    router = LogRouter(run_dir / "logs", echo=out if options.verbose else None)
    console = StepConsole(router, out, names, verbose=options.verbose, live=bool(out.isatty()))
    root = logging.getLogger()
    root.addFilter(console)
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(router), scoped_env(shared.env() if shared else {}):
            task = load_component_from_file(str(template_path))(**values)
    finally:
        root.removeFilter(console)
        console.close()
        router.close_all()
    return dict(task.outputs or {}), console, time.monotonic() - started


def step_outputs(run_dir: Path, step: str) -> dict[str, Any]:
    """The output parameters one task of a finished local run wrote ({} if it did not run).

    kfp.local keeps each task's executor output at <pipeline root>/<pipeline run>/<task>/;
    a pipeline whose steps run inside an exit handler can have no pipeline-level outputs (a KFP
    rule), so its results are the outputs of the step its LOCAL_RUN names.
    """
    found = sorted((run_dir / "kfp").glob(f"*/{step}/executor_output.json"))
    if not found:
        return {}
    data = json.loads(found[-1].read_text(encoding="utf-8"))
    return dict(data.get("parameterValues") or {})


def run_pipeline(
    pipeline: str,
    assignments: list[str],
    runs_dir: Path = RUNS_DIR,
    run_id: str | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Compile the local template of `pipeline`, run it with kfp.local, and return its outputs."""
    options = options or RunOptions()
    out = options.out or sys.stdout
    module = _find(pipeline)
    spec = spec_of(module)
    run_id = run_id or new_run_id(pipeline)
    run_dir = (runs_dir / run_id).resolve()
    if run_dir.exists():
        raise RunError(f"{run_dir} exists already; pick another run id")
    refuse_deployment_parameters(assignments)
    template_text = compiling.compile_one(module.build, "local")
    template = yaml.safe_load(template_text)
    decls = declared_parameters(template)
    given = {item.partition("=")[0].strip() for item in assignments}
    plan = plan_local(spec, decls, given, run_dir, runs_dir, options.data)
    try:
        values = params.parse_assignments(assignments, decls, plan.defaults)
    except params.ParamError as err:
        raise RunError(str(err)) from err
    _check_paths(spec, values)
    _check_spark(options)

    run_dir.mkdir(parents=True)
    out.write(f"run {run_id} ({pipeline}, local): logs in {run_dir / 'logs'}\n")
    out.flush()
    shared = SharedProcesses.for_mode(options.spark, run_dir / "logs", runs_dir)
    try:
        if shared is not None:
            shared.start()  # the JVM starts while the template and sample are written
        template_path = run_dir / "pipeline.yaml"
        template_path.write_text(template_text, encoding="utf-8")
        for path, sample in plan.samples:
            generate_sample(path, sample)
        if shared is not None:
            shared.wait_ready(out)
        outputs, console, total = _execute(
            template_path, values, run_dir, display_names(template), options, shared
        )
    except (ServerError, WarmPythonError, KeptServerError) as err:
        raise RunError(str(err)) from err
    finally:
        if shared is not None:
            shared.stop()
    if not outputs and spec.outputs_step:
        outputs = step_outputs(run_dir, spec.outputs_step)
    if not outputs or any(s.status not in (None, "SUCCESS") for s in console.steps.values()):
        raise _failure(console, run_dir)
    result = RunResult(
        run_id=run_id,
        run_dir=run_dir,
        pipeline=pipeline,
        # what the run used, declared defaults included (the report shows the gate's settings)
        parameters={n: d.default for n, d in decls.items() if d.optional} | values,
        outputs=outputs,
        step_seconds={name: s.seconds or 0.0 for name, s in console.steps.items()},
        total_seconds=total,
        spec=spec,
        steps=console.steps,
    )
    _write_outputs(result)
    return result


class SharedProcesses:
    """What the Spark steps of one local run share: a Spark Connect server (one JVM) and a
    warm Python their clients fork from (local/spark_server.py, local/warm_python.py)."""

    def __init__(self, logs: Path, kept: KeptSparkServer | None = None) -> None:
        #: kept: the server outlives the run (local/kept_spark.py); else it is the run's own.
        self.server: LocalSparkServer | KeptSparkServer = kept or LocalSparkServer(
            logs / "spark-server.log"
        )
        self.warm = WarmPython(logs / "warm-python.log")

    @classmethod
    def for_mode(cls, spark: str, logs: Path, runs_dir: Path) -> SharedProcesses | None:
        """What a run in Spark mode `spark` (SPARK_MODES) shares: None for a JVM per step."""
        if spark == "step":
            return None
        return cls(logs, KeptSparkServer(runs_dir) if spark == "kept" else None)

    def start(self) -> None:
        """Start both; returns at once."""
        self.server.start()
        self.warm.start()

    def wait_ready(self, out: TextIO) -> None:
        """Block until both answer; one console line with the seconds waited."""
        started = time.monotonic()
        out.write(f"  {self.server.label:<24}")
        out.flush()
        self.warm.wait_ready()
        self.server.wait_ready()
        out.write(f"{time.monotonic() - started:6.1f} s  {self.server.detail}\n")
        out.flush()

    def env(self) -> dict[str, str]:
        """What the steps' processes need to find them."""
        return {"SPARK_REMOTE": self.server.remote, "CHURN_WARM_PYTHON": self.warm.address}

    def stop(self) -> None:
        """Stop both (a step still running in the warm Python is stopped with it); a kept
        server only loses this run's lease."""
        self.warm.stop()
        self.server.stop()


def _write_outputs(result: RunResult) -> None:
    (result.run_dir / "outputs.json").write_text(
        json.dumps(
            {
                "pipeline": result.pipeline,
                "parameters": result.parameters,
                "outputs": result.outputs,
                "step_seconds": result.step_seconds,
                "total_seconds": result.total_seconds,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
