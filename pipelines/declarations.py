"""What a pipeline module declares about itself besides its DAG: how it runs locally.

A pipeline module may define `LOCAL_RUN = LocalRun(...)`; run.py (local/) reads it, so the local
runner never names a pipeline, and a pipeline never imports the local runner (a module without
one runs with no sample data and a plain summary).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The size of the public Telco churn file; the sample a local run generates has as many rows.
SAMPLE_ROWS = 7043


@dataclass(frozen=True)
class SampleData:
    """The seeded file a local run generates when the user brings no data of their own."""

    file_name: str
    seed: int = 42
    #: True: no Churn column (customers to score), as spark/sample_data.py --scoring writes.
    scoring: bool = False
    rows: int = SAMPLE_ROWS


@dataclass(frozen=True)
class LocalRun:
    """A pipeline's local-run declaration.

    `data_parameter` names the parameter holding a path relative to `data_uri` (what
    `run.py --data FILE` sets); `sample` is generated under the run folder when neither that
    parameter nor --data is given. `metrics_output` names the output holding a folder with a
    metrics.json, which the report and the summary show; `summary_outputs` are the outputs the
    summary prints, in that order.
    """

    data_parameter: str | None = None
    sample: SampleData | None = None
    metrics_output: str | None = None
    summary_outputs: tuple[str, ...] = ()
    #: the task whose outputs are the run's results, when the pipeline has no pipeline-level
    #: outputs (steps inside an exit handler cannot give any: components/summaries.py)
    outputs_step: str | None = None


#: Used for a pipeline module that declares nothing.
NOTHING_DECLARED = LocalRun()
