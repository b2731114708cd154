"""The report's figures as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def curve_png(
    x: list[float],
    y: list[float],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    diagonal: bool,
    previous: tuple[list[float], list[float]] | None = None,
) -> bytes:
    """A ROC or PR curve, with the previous run's curve in grey when given."""
    fig, ax = _pyplot().subplots(figsize=(4.5, 4.5), dpi=100)
    if previous is not None:
        ax.plot(*previous, linewidth=1.5, color="#999999", label="previous run")
    ax.plot(x, y, linewidth=2, color="#1f77b4", label="this run")
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    if previous is not None:
        ax.legend(loc="lower right" if diagonal else "upper right")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    return _png(fig)


def confusion_png(labels: list[str], matrix: list[list[float]]) -> bytes:
    """The confusion matrix with counts in the cells."""
    fig, ax = _pyplot().subplots(figsize=(4, 3.6), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels=labels)
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix (test split)")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            colour = "white" if count > peak / 2 else "black"
            ax.text(j, i, f"{int(count)}", ha="center", va="center", color=colour)
    return _png(fig)


def importance_png(rows: list[tuple[str, float]]) -> bytes:
    """Horizontal bars, most important at the top."""
    names = [name for name, _ in rows][::-1]
    values = [value for _, value in rows][::-1]
    fig, ax = _pyplot().subplots(figsize=(6, 0.32 * len(rows) + 1.0), dpi=100)
    ax.barh(names, values, color="#1f77b4")
    ax.set(xlabel="importance", title="Feature importance per input column")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
