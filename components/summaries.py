"""The last step of each pipeline: the run's results in one place.

KFP refuses pipeline-level outputs that come from inside a `dsl.ExitHandler`, and every step
runs inside one (the failure alert, components/notify.py). So each pipeline ends with a summary
step whose outputs are what the run produced: the Vertex console shows them on that step (and
its numbers as a Metrics artifact), and run.py reads them from the step's executor output.
"""

from typing import NamedTuple

from kfp import dsl

from components.images import component


@component
def training_summary(
    model_uri: str,
    model_version: str,
    model_source: str,
    gate_value: float,
    gate_passed: bool,
    promoted: bool,
    decision: str,
    challenger_value: float,
    champion_value: float,
    champion_version: str,
    figures: dsl.Output[dsl.Metrics],
) -> NamedTuple(
    "TrainingOutputs",
    [
        ("model_uri", str),
        ("model_version", str),
        ("model_source", str),
        ("gate_value", float),
        ("gate_passed", bool),
        ("promoted", bool),
        ("decision", str),
        ("challenger_value", float),
        ("champion_value", float),
        ("champion_version", str),
    ],
):
    """The training run's results (see pipelines/churn_training.py for what each one means)."""
    from collections import namedtuple

    values = {
        "model_uri": model_uri,
        "model_version": model_version,
        "model_source": model_source,
        "gate_value": gate_value,
        "gate_passed": gate_passed,
        "promoted": promoted,
        "decision": decision,
        "challenger_value": challenger_value,
        "champion_value": champion_value,
        "champion_version": champion_version,
    }
    figures.log_metric("gate_value", gate_value)
    figures.log_metric("challenger_value", challenger_value)
    if champion_version:
        figures.log_metric("champion_value", champion_value)
    print(f"{model_version}: {decision}")
    return namedtuple("TrainingOutputs", list(values))(**values)


@component
def scoring_summary(
    rows: int, predictions_uri: str, model_version: str, model_uri: str
) -> NamedTuple(
    "ScoringOutputs",
    [("rows", int), ("predictions_uri", str), ("model_version", str), ("model_uri", str)],
):
    """The scoring run's results: how many predictions, where, with which model version."""
    from collections import namedtuple

    print(f"{rows} predictions with {model_version} at {predictions_uri}")
    outputs = namedtuple(
        "ScoringOutputs", ["rows", "predictions_uri", "model_version", "model_uri"]
    )
    return outputs(rows, predictions_uri, model_version, model_uri)
