"""How the project compares model metrics (gate, tuned vs base, challenger vs champion)."""

from __future__ import annotations

#: Metrics where a smaller value is the better model; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset({"log_loss"})


def passes(metric: str, value: float, threshold: float) -> bool:
    """Whether `value` of `metric` meets `threshold` (<= for lower-is-better metrics)."""
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold


#: Differences up to this are floating-point noise, not a better model: the same model scored
#: twice on the same rows sums in another order and can differ in the 16th digit (a local run
#: promoted its own copy of the champion on 0.6220217076105944 against ...942).
NOISE = 1e-9


def beats(metric: str, challenger: float, incumbent: float, margin: float = 0.0) -> bool:
    """Whether `challenger` is better than `incumbent` on `metric` by more than `margin`
    (and by more than NOISE)."""
    if metric in LOWER_IS_BETTER:
        return challenger < incumbent - margin - NOISE
    return challenger > incumbent + margin + NOISE
