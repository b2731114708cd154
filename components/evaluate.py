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

    `model_dir` is a committed train/tune output: its metrics.json is the one its manifest
    lists (a folder without a manifest, or whose files differ from it, is refused), read through
    the Cloud Storage API when it is a gs:// URI, never through the /gcs/ FUSE mount, which
    shows a folder only where a placeholder object exists.
    """
    from collections import namedtuple

    from contract.metrics import passes
    from contract.outputs import NotCommittedError
    from model_registry.committed import open_committed

    try:
        output = open_committed(model_dir, what="a train/tune output")
    except NotCommittedError as exc:
        raise FileNotFoundError(
            f"{model_dir.rstrip('/')}/metrics.json: the job wrote no metrics ({exc})"
        ) from exc
    report = output.read_json("metrics.json")

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
