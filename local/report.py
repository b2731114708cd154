"""The report a person opens after a local run: Markdown and one self-contained HTML page.

What goes in: the run's steps and parameters, and when the pipeline declares a metrics output
(pipelines/declarations.py) that model's metrics, curves, confusion matrix and feature importances
per input column, with deltas against the previous local run of the same pipeline and, when the
run's outputs carry them (the model registry's champion comparison), the champion's figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from contract.metrics import beats
from local import report_plots

SCALARS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")
TOP_COLUMNS = 12


@dataclass
class Previous:
    """The previous local run of the same pipeline, for deltas."""

    run_id: str
    metrics: dict[str, Any]


@dataclass
class ReportData:
    """Everything a renderer needs; no I/O left to do."""

    run_id: str
    pipeline: str
    outputs: dict[str, Any]
    parameters: dict[str, Any]
    steps: list[tuple[str, float, str]]
    total_seconds: float
    summary_outputs: tuple[str, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    previous: Previous | None = None
    figures: dict[str, bytes] = field(default_factory=dict)

    def delta(self, name: str) -> float | None:
        """This run's metric minus the previous run's, when both have it."""
        if self.previous is None:
            return None
        before, now = self.previous.metrics.get(name), self.metrics.get(name)
        if isinstance(before, (int, float)) and isinstance(now, (int, float)):
            return float(now) - float(before)
        return None

    def champion(self) -> dict[str, Any] | None:
        """The champion comparison, when the run's outputs carry one (model registry)."""
        if not self.outputs.get("champion_version") and "champion_value" not in self.outputs:
            return None
        keys = ("champion_version", "champion_value", "challenger_value", "promoted", "decision")
        return {k: self.outputs[k] for k in keys if k in self.outputs}


def local_path(uri: str) -> Path:
    """A local path or file URI (`file:///x`, `file:/x`, as the model registry writes) as a Path."""
    text = str(uri)
    if text.startswith("file:"):
        return Path(unquote(urlparse(text).path))
    return Path(text)


def load_metrics(model_dir: str) -> dict[str, Any]:
    """metrics.json of a committed train/tune output or registry version folder (path or file
    URI): the one its manifest lists, or an OutputError naming the folder."""
    from model_registry.committed import open_committed

    return open_committed(str(local_path(model_dir))).read_json("metrics.json")


def previous_run(runs_dir: Path, pipeline: str, current: Path) -> Previous | None:
    """The newest other run of `pipeline` under `runs_dir` that left a report's metrics."""
    candidates = []
    for outputs in runs_dir.glob("*/outputs.json"):
        run_dir = outputs.parent
        metrics = run_dir / "report" / "metrics.json"
        if run_dir.resolve() == current.resolve() or not metrics.exists():
            continue
        try:
            if json.loads(outputs.read_text(encoding="utf-8")).get("pipeline") == pipeline:
                candidates.append((outputs.stat().st_mtime, run_dir.name, metrics))
        except (OSError, json.JSONDecodeError):
            continue  # a run folder someone edited by hand is no reason to fail this report
    if not candidates:
        return None
    _, run_id, path = max(candidates)
    return Previous(run_id, json.loads(path.read_text(encoding="utf-8")))


def column_importances(metrics: dict[str, Any]) -> list[tuple[str, float]]:
    """Importance per input column (one-hot levels grouped), highest first.

    Uses metrics.json's `column_importances`; for metrics written before it existed, groups the
    top features (`contract=Two year` -> `contract`).
    """
    rows = metrics.get("column_importances")
    if rows:
        return [(str(r["column"]), float(r["importance"])) for r in rows]
    totals: dict[str, float] = {}
    for item in metrics.get("feature_importances") or []:
        column = str(item.get("feature", "")).split("=", 1)[0]
        totals[column] = totals.get(column, 0.0) + float(item.get("importance", 0.0))
    return sorted(totals.items(), key=lambda p: (-p[1], p[0]))


def build_figures(data: ReportData) -> None:
    """Draw the PNGs the metrics allow into `data.figures`."""
    m, before = data.metrics, data.previous.metrics if data.previous else {}
    roc, pr = m.get("roc_curve") or {}, m.get("pr_curve") or {}
    if roc.get("fpr"):
        old = (before.get("roc_curve") or {}) if before else {}
        data.figures["roc.png"] = report_plots.curve_png(
            roc["fpr"],
            roc["tpr"],
            xlabel="false positive rate",
            ylabel="true positive rate",
            title=f"ROC (AUC {m.get('auc_roc', float('nan')):.3f})",
            diagonal=True,
            previous=(old["fpr"], old["tpr"]) if old.get("fpr") else None,
        )
    if pr.get("recall"):
        old = (before.get("pr_curve") or {}) if before else {}
        data.figures["pr.png"] = report_plots.curve_png(
            pr["recall"],
            pr["precision"],
            xlabel="recall",
            ylabel="precision",
            title=f"Precision-recall (AUC {m.get('auc_pr', float('nan')):.3f})",
            diagonal=False,
            previous=(old["recall"], old["precision"]) if old.get("recall") else None,
        )
    confusion = m.get("confusion_matrix") or {}
    if confusion.get("matrix"):
        labels = [str(label) for label in confusion["labels"]]
        data.figures["confusion.png"] = report_plots.confusion_png(labels, confusion["matrix"])
    columns = column_importances(m)[:TOP_COLUMNS]
    if columns:
        data.figures["importance.png"] = report_plots.importance_png(columns)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def signed(delta: float | None, metric: str) -> str:
    """`+0.0123 (better)`; empty without a previous value."""
    if delta is None:
        return ""
    if abs(delta) < 5e-5:
        return "±0.0000"
    better = beats(metric, delta, 0.0)
    return f"{delta:+.4f} ({'better' if better else 'worse'})"


def render_markdown(data: ReportData) -> str:
    """The report as Markdown, figures referenced as files next to it."""
    lines = [f"# {data.run_id}", "", f"Pipeline `{data.pipeline}`, run locally."]
    shown = [f"{k} = `{_fmt(data.outputs[k])}`" for k in data.summary_outputs if k in data.outputs]
    if shown:
        lines += ["", "; ".join(shown) + "."]
    if data.metrics:
        versus = f" vs {data.previous.run_id}" if data.previous else ""
        lines += ["", "## Metrics (test split)", "", f"| metric | value | change{versus} |"]
        lines += ["|---|---|---|"]
        for name in SCALARS:
            if name in data.metrics:
                change = signed(data.delta(name), name)
                lines.append(f"| {name} | {data.metrics[name]:.4f} | {change} |")
        rows = f"{data.metrics.get('n_train')} / {data.metrics.get('n_test')}"
        lines += [f"| rows (train / test) | {rows} | |", ""]
    champion = data.champion()
    if champion:
        lines += ["## Champion comparison", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in champion.items()] + [""]
    titles = {
        "roc.png": "ROC curve",
        "pr.png": "Precision-recall curve",
        "confusion.png": "Confusion matrix",
        "importance.png": "Feature importance per column",
    }
    for name in data.figures:
        lines += [f"### {titles.get(name, name)}", "", f"![{titles.get(name, name)}]({name})", ""]
    columns = column_importances(data.metrics)
    if columns:
        lines += ["## Feature importance per input column", "", "| column | importance |"]
        lines += ["|---|---|"] + [f"| {c} | {v:.4f} |" for c, v in columns[:TOP_COLUMNS]] + [""]
    lines += ["## Steps", "", "| step | seconds | result |", "|---|---|---|"]
    lines += [f"| {name} | {sec:.1f} | {figure} |" for name, sec, figure in data.steps]
    lines += [f"| **total** | {data.total_seconds:.1f} | |", "", "## Parameters", "", "```json"]
    lines += [json.dumps(data.parameters, indent=2, sort_keys=True, default=str), "```", ""]
    if data.metrics.get("params"):
        lines += ["## Model parameters", "", "```json"]
        lines += [json.dumps(data.metrics["params"], indent=2, sort_keys=True, default=str)]
        lines += ["```", ""]
    return "\n".join(lines)


def write_report(report_dir: Path, data: ReportData) -> tuple[Path, Path]:
    """Write report.md (+ PNGs, metrics.json) and the self-contained report.html."""
    from local.report_html import render_html

    report_dir.mkdir(parents=True, exist_ok=True)
    if data.metrics:
        (report_dir / "metrics.json").write_text(json.dumps(data.metrics, indent=2) + "\n")
    build_figures(data)
    for name, png in data.figures.items():
        (report_dir / name).write_bytes(png)
    markdown = report_dir / "report.md"
    markdown.write_text(render_markdown(data), encoding="utf-8")
    html = report_dir / "report.html"
    html.write_text(render_html(data), encoding="utf-8")
    return markdown, html
