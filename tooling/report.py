"""The report a person opens after a local run: metrics, ROC and PR curves, confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCALARS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")


def load_metrics(model_dir: str) -> dict[str, Any]:
    """metrics.json of a train/tune output folder (a local path or file:// URI)."""
    path = Path(model_dir.removeprefix("file://")) / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _plot_curve(path: Path, x, y, *, xlabel: str, ylabel: str, title: str, diagonal: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot(x, y, linewidth=2)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _plot_confusion(path: Path, labels: list[str], matrix: list[list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3.6), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels=labels)
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix (test split)")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            colour = "white" if count > peak / 2 else "black"
            ax.text(j, i, f"{int(count)}", ha="center", va="center", color=colour)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write_training_report(
    report_dir: Path,
    *,
    run_id: str,
    metrics: dict[str, Any],
    outputs: dict[str, Any],
    parameters: dict[str, Any],
    step_seconds: dict[str, float],
    total_seconds: float,
) -> Path:
    """Write metrics.json, roc.png, pr.png, confusion.png and report.md; returns report.md."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    images = []
    roc = metrics.get("roc_curve") or {}
    if roc.get("fpr"):
        _plot_curve(
            report_dir / "roc.png",
            roc["fpr"],
            roc["tpr"],
            xlabel="false positive rate",
            ylabel="true positive rate",
            title=f"ROC (AUC {metrics.get('auc_roc', float('nan')):.3f})",
            diagonal=True,
        )
        images.append(("ROC curve", "roc.png"))
    pr = metrics.get("pr_curve") or {}
    if pr.get("recall"):
        _plot_curve(
            report_dir / "pr.png",
            pr["recall"],
            pr["precision"],
            xlabel="recall",
            ylabel="precision",
            title=f"Precision-recall (AUC {metrics.get('auc_pr', float('nan')):.3f})",
            diagonal=False,
        )
        images.append(("Precision-recall curve", "pr.png"))
    confusion = metrics.get("confusion_matrix") or {}
    if confusion.get("matrix"):
        _plot_confusion(
            report_dir / "confusion.png",
            [str(label) for label in confusion["labels"]],
            confusion["matrix"],
        )
        images.append(("Confusion matrix", "confusion.png"))

    lines = [f"# {run_id}", ""]
    lines += [
        f"Model: `{outputs.get('model_uri', '?')}` ({outputs.get('model_source', '?')} model); "
        f"gate value {outputs.get('gate_value', float('nan')):.4f}, "
        f"{'passed' if outputs.get('gate_passed') else 'failed'} "
        f"({parameters.get('gate_metric')} vs {parameters.get('gate_threshold')}).",
        "",
        "## Metrics (test split)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {name} | {metrics[name]:.4f} |" for name in SCALARS if name in metrics]
    lines += [f"| rows (train / test) | {metrics.get('n_train')} / {metrics.get('n_test')} |", ""]
    for title, name in images:
        lines += [f"### {title}", "", f"![{title}]({name})", ""]
    importances = metrics.get("feature_importances") or []
    if importances:
        lines += ["## Top features", "", "| feature | importance |", "|---|---|"]
        for item in importances[:15]:
            lines.append(f"| {item.get('feature')} | {float(item.get('importance', 0)):.4f} |")
        lines.append("")
    lines += ["## Steps", "", "| step | seconds |", "|---|---|"]
    lines += [f"| {step} | {sec:.1f} |" for step, sec in step_seconds.items()]
    lines += [f"| **total** | {total_seconds:.1f} |", "", "## Parameters", "", "```json"]
    lines += [json.dumps(parameters, indent=2, sort_keys=True, default=str), "```", ""]
    if metrics.get("params"):
        lines += ["## Model parameters", "", "```json"]
        lines += [json.dumps(metrics["params"], indent=2, sort_keys=True, default=str), "```", ""]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
