"""The Spark-step factory: one pipeline definition, two targets.

A pipeline calls `spark_step(job, args, run=..., settings=...)` for each Spark job (`run` is the
prepare-run task, or a `SparkRun` of the same values passed into a sub-pipeline). For the
`vertex` target that is a Dataproc Serverless batch (GCPC `DataprocPySparkBatchOp`) running
`<code_uri>/<job>.py` with the shared `churn` package as `churn.zip`; for the `local` target it is a
lightweight component running the same `spark/<job>.py` on local Spark. Nothing else differs.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

from kfp import dsl

from components.images import component, no_cache

TARGETS = ("vertex", "local")

#: Resolved by Vertex AI at run time to the pipeline job's own region (as GCPC does for project).
PIPELINE_LOCATION_PLACEHOLDER = "{{$.pipeline_google_cloud_location}}"

#: Dataproc Serverless runtime the pipelines request unless a run says otherwise. Runtime 3.0 runs
#: Spark 4.0, the line local pyspark is pinned to (pyproject.toml).
DEFAULT_RUNTIME_VERSION = "3.0"


def field_values(values: Any) -> dict[str, Any]:
    """A dataclass's fields by name, the values as they are (dataclasses.asdict would deep-copy
    the pipeline channels)."""
    return {f.name: getattr(values, f.name) for f in fields(values)}


@dataclass(frozen=True)
class DataprocSettings:
    """Dataproc Serverless settings of a run: pipeline parameters (or constants)."""

    runtime_version: Any
    service_account: Any
    subnetwork_uri: Any
    spark_history_cluster: Any
    container_image: Any
    spark_properties: Any

    def arguments(self) -> dict[str, Any]:
        """The settings as the keyword arguments of a pipeline `with_dataproc_settings` made
        (a sub-pipeline declares them as its caller does)."""
        return field_values(self)


#: The pipeline parameters behind DataprocSettings (all deployment-owned), with their defaults.
DATAPROC_PARAMETERS: dict[str, tuple[type, Any]] = {
    "runtime_version": (str, DEFAULT_RUNTIME_VERSION),
    "service_account": (str, ""),
    "subnetwork_uri": (str, ""),
    "spark_history_cluster": (str, ""),
    "container_image": (str, ""),
    "spark_properties": (dict, {}),
}


def with_dataproc_settings(body: Callable[..., Any]) -> Callable[..., Any]:
    """Give a pipeline function the Dataproc settings parameters, written here once.

    `body` ends with a keyword-only `settings: DataprocSettings`. The function this returns (what
    `dsl.pipeline` reads) has `body`'s other parameters followed by DATAPROC_PARAMETERS, and
    calls `body` with those six gathered into one DataprocSettings.
    """
    signature = inspect.signature(body)
    own = [p for name, p in signature.parameters.items() if name != "settings"]
    if list(signature.parameters)[-1:] != ["settings"]:
        raise TypeError(f"{body.__name__}: the last parameter must be `settings`")
    added = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d, annotation=t)
        for name, (t, d) in DATAPROC_PARAMETERS.items()
    ]
    public = signature.replace(parameters=[*own, *added])

    @functools.wraps(body)
    def pipeline(*args: Any, **kwargs: Any) -> Any:
        bound = public.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        settings = DataprocSettings(**{name: values.pop(name) for name in DATAPROC_PARAMETERS})
        return body(**values, settings=settings)

    pipeline.__signature__ = public  # type: ignore[attr-defined]
    return pipeline


@dataclass(frozen=True)
class SparkRun:
    """What a Spark step reads from prepare-run: its outputs, or (inside a sub-pipeline, which
    cannot refer to its caller's tasks) the sub-pipeline's inputs of the same names."""

    code_uri: Any
    python_file_uris: Any
    batch_labels: Any

    @classmethod
    def of(cls, run: "dsl.PipelineTask | SparkRun") -> "SparkRun":
        """`run` itself, or the prepare-run task's outputs."""
        if isinstance(run, SparkRun):
            return run
        return cls(**{f.name: run.outputs[f.name] for f in fields(cls)})

    def arguments(self) -> dict[str, Any]:
        """The values as keyword arguments of a sub-pipeline declaring these three inputs."""
        return field_values(self)


class SparkStep(Protocol):
    """Makes the pipeline task that runs `spark/<job>.py` with `args`."""

    def __call__(
        self, job: str, args: list, *, run: dsl.PipelineTask | SparkRun, settings: DataprocSettings
    ) -> dsl.PipelineTask: ...


def dataproc_step(
    job: str, args: list, *, run: dsl.PipelineTask | SparkRun, settings: DataprocSettings
) -> dsl.PipelineTask:
    """A Dataproc Serverless PySpark batch running `<code_uri>/<job>.py`.

    `args` items must be strings with any value inside them (`f"--seed={seed}"`): Dataproc
    refuses a number in `args`, and a list item that is a whole placeholder of a numeric
    parameter would be substituted as a number. The list and mapping fields come whole from
    prepare-run for the same reason.
    """
    # Imported here so compiling the local target does not pay for GCPC's import.
    from google_cloud_pipeline_components.v1.dataproc import DataprocPySparkBatchOp

    for item in args:
        if not isinstance(item, str):
            raise TypeError(
                f"spark step '{job}': argument {item!r} is not a string; write it as "
                f"f'--name={{value}}' so Dataproc receives a string"
            )
    spark_run = SparkRun.of(run)
    task = DataprocPySparkBatchOp(
        location=PIPELINE_LOCATION_PLACEHOLDER,
        main_python_file_uri=f"{spark_run.code_uri}/{job}.py",
        python_file_uris=spark_run.python_file_uris,
        args=args,
        # Left empty on purpose: GCPC's launcher then makes a fresh id for every attempt
        # ("dataprocpysparkbatch-<time>-<hex>"), so neither a second run nor a retry reuses one.
        # The labels tie each batch to its pipeline job and environment.
        batch_id="",
        labels=spark_run.batch_labels,
        runtime_config_version=settings.runtime_version,
        runtime_config_properties=settings.spark_properties,
        service_account=settings.service_account,
        subnetwork_uri=settings.subnetwork_uri,
        spark_history_dataproc_cluster=settings.spark_history_cluster,
        container_image=settings.container_image,
    )
    return no_cache(task, job)


@component
def local_spark_job(job: str, code_dir: str, args: list) -> str:
    """Run `<code_dir>/<job>.py` on local Spark with this interpreter; returns its summary line.

    The job's output is echoed as it comes (run.py files it in the step's log); the job's last
    `summary: ...` line (churn.cli) is the step's output, the figure run.py shows for the step.
    When run.py started a warm Python for the run (CHURN_WARM_PYTHON, local/warm_python.py),
    the job is a child of it, with the Spark client already imported; otherwise a new process.
    """
    import os
    import sys
    import time

    from components.local_jobs import job_output

    command = [sys.executable, f"{code_dir.removeprefix('file://')}/{job}.py", *map(str, args)]
    print("$ " + " ".join(command), flush=True)
    started = time.monotonic()
    summary = ""
    returncode = 1
    for line in job_output(command, os.environ.get("CHURN_WARM_PYTHON", "")):
        if isinstance(line, int):
            returncode = line
            break
        print(line, end="", flush=True)
        if line.startswith("summary: "):
            summary = line[len("summary: ") :].strip()
    elapsed = time.monotonic() - started
    if returncode != 0:
        raise RuntimeError(f"spark job '{job}' failed with exit code {returncode}")
    print(f"spark job '{job}' finished in {elapsed:.1f} s", flush=True)
    return summary


def local_step(
    job: str, args: list, *, run: dsl.PipelineTask | SparkRun, settings: DataprocSettings
) -> dsl.PipelineTask:
    """The same job on local Spark (Dataproc settings do not apply locally)."""
    del settings
    task = local_spark_job(job=job, code_dir=SparkRun.of(run).code_uri, args=args)
    return no_cache(task, job)


def spark_step_for(target: str) -> SparkStep:
    """The factory for a compile target: 'vertex' or 'local'."""
    if target == "vertex":
        return dataproc_step
    if target == "local":
        return local_step
    raise ValueError(f"unknown target '{target}'; expected one of: {', '.join(TARGETS)}")
