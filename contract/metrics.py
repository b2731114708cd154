"""How the project compares model metrics (gate, tuned vs base, challenger vs champion)."""

from __future__ import annotations

#: Metrics where a smaller value is the better model; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset({"log_loss"})


def passes(metric: str, value: float, threshold: float) -> bool:
    """Whether `value` of `metric` meets `threshold` (<= for lower-is-better metrics)."""
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold


def beats(metric: str, challenger: float, incumbent: float, margin: float = 0.0) -> bool:
    """Whether `challenger` is better than `incumbent` on `metric` by more than `margin`."""
    if metric in LOWER_IS_BETTER:
        return challenger < incumbent - margin
    return challenger > incumbent + margin
