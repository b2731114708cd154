"""`prepare_run`: where this run reads and writes, and everything its Dataproc batches take whole.

Dataproc requires strings in `args` and exact types in the batch; a placeholder nested inside a
list or a mapping is substituted by Vertex with the parameter's own type. So the values a batch
takes as a whole list or mapping (`python_file_uris`, `labels`) are computed here and passed as
whole outputs, and every `args` item is a string with the value inside it (`--seed={{...}}`).
"""

from typing import NamedTuple

from kfp import dsl

from components.images import component


@component
def prepare_run(
    pipeline_job: str,
    environment: str,
    spark_code_uri: str,
    data_uri: str,
    data_path: str,
    workspace: dsl.Output[dsl.Artifact],
    raw_data: dsl.Output[dsl.Dataset],
    results_base_uri: str = "",
    fire_time: str = "",
) -> NamedTuple(
    "RunLayout",
    [
        ("work_uri", str),
        ("code_uri", str),
        ("input_uri", str),
        ("results_uri", str),
        ("job_label", str),
        ("python_file_uris", list),
        ("batch_labels", dict),
        ("logical_date", str),
    ],
):
    """Allocate this run's working location, resolve its input, and check its code location.

    `raw_data` is the input as a `Dataset` artifact (lineage starts there). `logical_date` is
    the UTC date of `fire_time` (the slot a scheduled, retried or backfilled run is for), or of
    now for a run without one: what the run's results are dated by.

    The working location is the URI the pipeline backend gives this task's output artifact
    (under the pipeline root, unique per run), so concurrent runs never write to one place.
    The input is `data_path` under the environment's `data_uri` (a schedule chooses the path,
    never the bucket). Results meant to outlive the run go to `<results_base_uri>/<run label>`
    when a base is given, else to `<work_uri>/results`.
    """
    from collections import namedtuple
    from datetime import UTC, datetime

    from contract.naming import fire_stamp, label_value, run_label
    from contract.ownership import join_location

    code_uri = spark_code_uri.rstrip("/")
    if not code_uri:
        raise ValueError(
            "pipeline parameter 'spark_code_uri' is empty: published templates carry their "
            "version's folder (compile.py --publish --env ENV); run.py passes the local spark/"
        )
    input_uri = join_location(data_uri, data_path)
    # The run's input as a Dataset artifact where it lies: the start of the lineage graph.
    raw_data.uri = input_uri
    raw_data.metadata.update({"environment": environment, "path": data_path})
    job_label = run_label(pipeline_job)
    work_uri = workspace.uri.rstrip("/")
    base = results_base_uri.rstrip("/")
    results_uri = f"{base}/{job_label}" if base else f"{work_uri}/results"
    labels = {
        "kfp-pipeline-job": job_label,
        "environment": label_value(environment) or "unset",
        "managed-by": "churn-pipelines",
    }
    if fire_time:
        try:
            slot = datetime.fromisoformat(fire_time.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise ValueError(f"fire_time {fire_time!r:.60} is not an RFC 3339 time") from None
        labels["fire-time"] = fire_stamp(slot)
    else:
        slot = datetime.now(UTC)
    layout = namedtuple(
        "RunLayout",
        [
            "work_uri",
            "code_uri",
            "input_uri",
            "results_uri",
            "job_label",
            "python_file_uris",
            "batch_labels",
            "logical_date",
        ],
    )
    return layout(
        work_uri,
        code_uri,
        input_uri,
        results_uri,
        job_label,
        [f"{code_uri}/churn.zip"],
        labels,
        slot.date().isoformat(),
    )
