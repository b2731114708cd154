"""`evaluate`: metrics.json -> KFP metrics the Vertex AI console draws, and the quality gate."""

from typing import NamedTuple

from kfp import dsl

from components.images import component


@component
def evaluate(
    model_dir: str,
    gate_metric: str,
    gate_threshold: float,
    metrics: dsl.Output[dsl.Metrics],
    classification: dsl.Output[dsl.ClassificationMetrics],
) -> NamedTuple("Gate", [("value", float), ("passed", bool)]):
    """Log scalar metrics, the ROC curve and the confusion matrix; compare the gate metric.

    `model_dir` is a train/tune output folder holding metrics.json, read through the Cloud
    Storage API when it is a gs:// URI (the registry's store), never through the /gcs/ FUSE
    mount, which shows a folder only where a placeholder object exists.
    """
    import json
    from collections import namedtuple

    from contract.metrics import passes
    from model_registry.store import open_store

    found = open_store(model_dir.rstrip("/")).read("metrics.json")
    if found is None:
        raise FileNotFoundError(f"{model_dir.rstrip('/')}/metrics.json: the job wrote no metrics")
    report = json.loads(found.data)

    scalars = {k: v for k, v in report.items() if isinstance(v, (int, float))}
    for name, value in sorted(scalars.items()):
        metrics.log_metric(name, value)

    roc = report.get("roc_curve") or {}
    if roc.get("fpr"):
        # The console wants one threshold per point; metrics.json gives them in the same order.
        thresholds = roc.get("thresholds") or [0.0] * len(roc["fpr"])
        classification.log_roc_curve(roc["fpr"], roc["tpr"], thresholds)
    confusion = report.get("confusion_matrix") or {}
    if confusion.get("matrix"):
        classification.log_confusion_matrix(
            [str(label) for label in confusion["labels"]], confusion["matrix"]
        )

    if gate_metric not in scalars:
        raise ValueError(
            f"gate_metric '{gate_metric}' is not in metrics.json; choose one of: "
            + ", ".join(sorted(scalars))
        )
    value = float(scalars[gate_metric])
    passed = passes(gate_metric, value, gate_threshold)
    verdict = "passes" if passed else "fails"
    print(f"gate: {gate_metric} = {value:.4f} {verdict} (threshold {gate_threshold})")
    return namedtuple("Gate", ["value", "passed"])(value, passed)
