"""`prepare_run`: where this run's Spark steps read and write, and the labels they carry."""

from typing import NamedTuple

from kfp import dsl

from components.images import PYTHON_IMAGE


@dsl.component(base_image=PYTHON_IMAGE)
def prepare_run(
    pipeline_job: str,
    spark_code_uri: str,
    workspace: dsl.Output[dsl.Artifact],
    results_base_uri: str = "",
) -> NamedTuple(
    "RunLayout", [("work_uri", str), ("code_uri", str), ("job_label", str), ("results_uri", str)]
):
    """Allocate this run's working location and check where its Spark code lives.

    The working location is the URI the pipeline backend gives this task's output artifact
    (under the pipeline root, unique per run), so concurrent runs never write to one place.
    Results meant to outlive the run go to `<results_base_uri>/<pipeline job>` when a base is
    given, else to `<work_uri>/results`.
    """
    import re
    from collections import namedtuple

    code_uri = spark_code_uri.rstrip("/")
    if not code_uri:
        raise ValueError(
            "pipeline parameter 'spark_code_uri' is empty: set it to the folder holding the "
            "Spark jobs (published templates carry their own version's folder as the default; "
            "run.py passes the local spark/ folder)"
        )
    # Dataproc label values: lowercase letters, digits, '-' and '_', at most 63 characters.
    job_label = re.sub(r"[^a-z0-9_-]", "-", pipeline_job.lower())[:63] or "unknown"
    work_uri = workspace.uri.rstrip("/")
    base = results_base_uri.rstrip("/")
    results_uri = f"{base}/{job_label}" if base else f"{work_uri}/results"
    layout = namedtuple("RunLayout", ["work_uri", "code_uri", "job_label", "results_uri"])
    return layout(work_uri, code_uri, job_label, results_uri)
