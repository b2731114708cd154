"""`select_model`: name the model that won (the base model, or the tuned one when it is better)."""

from typing import NamedTuple

from components.images import component


@component
def select_model(
    gate_metric: str,
    base_dir: str,
    base_value: float,
    tuned_dir: str = "",
    tuned_value: float = 0.0,
) -> NamedTuple("Selection", [("model_uri", str), ("source", str), ("metric_value", float)]):
    """The better of the base and tuned models by the gate metric (ties go to the base model).

    `model_uri` is the winning job's output folder (model/, metrics.json, model_meta.json), the
    layout `score` takes as `--model`.
    """
    from collections import namedtuple

    from contract.metrics import beats

    selection = namedtuple("Selection", ["model_uri", "source", "metric_value"])
    tuned_wins = bool(tuned_dir) and beats(gate_metric, tuned_value, base_value)
    if tuned_wins:
        choice = selection(tuned_dir.rstrip("/"), "tuned", tuned_value)
    else:
        choice = selection(base_dir.rstrip("/"), "base", base_value)
    print(f"selected the {choice.source} model ({gate_metric} = {choice.metric_value:.4f})")
    return choice
