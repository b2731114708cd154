"""The Spark-step factory: one pipeline definition, two targets.

A pipeline calls `spark_step(job, args, run=..., settings=...)` for each Spark job. For the
`vertex` target that is a Dataproc Serverless batch (GCPC `DataprocPySparkBatchOp`) running
`<code_uri>/<job>.py` with the shared `churn` package as `churn.zip`; for the `local` target it is a
lightweight component running the same `spark/<job>.py` on local Spark. Nothing else differs.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from kfp import dsl

from components.images import PYTHON_IMAGE

TARGETS = ("vertex", "local")

#: Resolved by Vertex AI at run time to the pipeline job's own region (as GCPC does for project).
PIPELINE_LOCATION_PLACEHOLDER = "{{$.pipeline_google_cloud_location}}"

#: Dataproc Serverless runtime the pipelines request unless a run says otherwise. Runtime 3.0 runs
#: Spark 4.0, the line local pyspark is pinned to (pyproject.toml).
DEFAULT_RUNTIME_VERSION = "3.0"


@dataclass(frozen=True)
class DataprocSettings:
    """Dataproc Serverless settings of a run: pipeline parameters (or constants)."""

    runtime_version: Any
    service_account: Any
    subnetwork_uri: Any
    spark_history_cluster: Any
    container_image: Any
    spark_properties: Any


class SparkStep(Protocol):
    """Makes the pipeline task that runs `spark/<job>.py` with `args`."""

    def __call__(
        self, job: str, args: list, *, run: dsl.PipelineTask, settings: DataprocSettings
    ) -> dsl.PipelineTask: ...


def dataproc_step(
    job: str, args: list, *, run: dsl.PipelineTask, settings: DataprocSettings
) -> dsl.PipelineTask:
    """A Dataproc Serverless PySpark batch running `<code_uri>/<job>.py`."""
    # Imported here so compiling the local target does not pay for GCPC's import.
    from google_cloud_pipeline_components.v1.dataproc import DataprocPySparkBatchOp

    code_uri = run.outputs["code_uri"]
    task = DataprocPySparkBatchOp(
        location=PIPELINE_LOCATION_PLACEHOLDER,
        main_python_file_uri=f"{code_uri}/{job}.py",
        python_file_uris=[f"{code_uri}/churn.zip"],
        args=args,
        # Left empty on purpose: GCPC's launcher then makes a fresh id for every attempt
        # ("pyspark-<time>-<random>"), so neither a second run nor a retry reuses one. The labels
        # below tie each batch to its pipeline job and step.
        batch_id="",
        labels={
            "kfp-pipeline-job": run.outputs["job_label"],
            "spark-job": job,
            "managed-by": "churn-pipelines",
        },
        runtime_config_version=settings.runtime_version,
        runtime_config_properties=settings.spark_properties,
        service_account=settings.service_account,
        subnetwork_uri=settings.subnetwork_uri,
        spark_history_dataproc_cluster=settings.spark_history_cluster,
        container_image=settings.container_image,
    )
    task.set_display_name(job)
    return task


@dsl.component(base_image=PYTHON_IMAGE)
def local_spark_job(job: str, code_dir: str, args: list) -> float:
    """Run `<code_dir>/<job>.py` on local Spark with this interpreter; returns its wall time."""
    import subprocess
    import sys
    import time

    command = [sys.executable, f"{code_dir.removeprefix('file://')}/{job}.py", *map(str, args)]
    print("$ " + " ".join(command), flush=True)
    started = time.monotonic()
    result = subprocess.run(command, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"spark job '{job}' failed with exit code {result.returncode}")
    print(f"spark job '{job}' finished in {elapsed:.1f} s", flush=True)
    return elapsed


def local_step(
    job: str, args: list, *, run: dsl.PipelineTask, settings: DataprocSettings
) -> dsl.PipelineTask:
    """The same job on local Spark (Dataproc settings do not apply locally)."""
    del settings
    task = local_spark_job(job=job, code_dir=run.outputs["code_uri"], args=args)
    task.set_display_name(job)
    return task


def spark_step_for(target: str) -> SparkStep:
    """The factory for a compile target: 'vertex' or 'local'."""
    if target == "vertex":
        return dataproc_step
    if target == "local":
        return local_step
    raise ValueError(f"unknown target '{target}'; expected one of: {', '.join(TARGETS)}")
