"""The ranges of the model-level parameters a schedule file or a trigger call may set.

Typing (`contract.params`) says a value is a number or a string; these rules say which values make
sense, so that `tune_folds: 1` is refused by `schedule.py validate` (file:line) and by the trigger
(400 naming the parameter) instead of failing in a Spark step of a run hours later, and a
`gate_threshold: 60` (meant as 60 %) does not fail every run's gate. A rule applies wherever a
pipeline declares a parameter of its name.

- `classifier`: `lr`, `gbt` or `rf`, what spark/train.py trains;
- `gate_metric`: one of the scalar metrics of metrics.json (GATE_METRICS), what the gate reads;
- `gate_threshold`: 0 to 1. Every gate metric lies in [0, 1] but log_loss, and its useful
  thresholds (below ln 2 = 0.69, a coin flip's) do too;
- `promotion_margin`: 0 to 1, 1 excluded: a difference of two such metrics, and 1 or more
  would never promote;
- `tune_folds`: a whole number from 2 to 20. Cross-validation needs 2 folds (spark/tune.py
  refuses fewer), and each fold is one more fit of every candidate.

`seed` takes any whole number (within ±2^53, as every number). Local runs (`run.py --param`) are
held to the same ranges, so what runs locally could also run on schedule.
Pure logic, standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The classifiers spark/train.py trains (a test keeps this equal to spark's own list).
CLASSIFIERS = ("lr", "gbt", "rf")
#: The scalar metrics every metrics.json carries; a gate compares one of them with its threshold.
GATE_METRICS = ("auc_roc", "auc_pr", "accuracy", "f1", "precision", "recall", "log_loss")


@dataclass(frozen=True)
class Range:
    """Numbers from `low` to `high` (`high` itself excluded when `high_open`)."""

    low: float
    high: float
    high_open: bool = False
    whole: bool = False

    def problem(self, value: Any) -> str | None:
        """Why `value` is outside the range, or None."""
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None  # typing reports it
        upper_ok = value < self.high if self.high_open else value <= self.high
        whole_ok = not self.whole or float(value).is_integer()
        if math.isfinite(value) and self.low <= value and upper_ok and whole_ok:
            return None
        return f"must be {self.describe()}, got {value!r:.40}"

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        high = f"{self.high:g}" + (" (excluded)" if self.high_open else "")
        return f"{kind} from {self.low:g} to {high}"


@dataclass(frozen=True)
class OneOf:
    """One of a few strings, exactly as written (case-sensitive)."""

    choices: tuple[str, ...]

    def problem(self, value: Any) -> str | None:
        """Why `value` is not one of the choices, or None."""
        if not isinstance(value, str) or value in self.choices:
            return None
        return f"must be {self.describe()}, got {value!r:.40}"

    def describe(self) -> str:
        return "one of " + ", ".join(self.choices)


RULES: dict[str, Range | OneOf] = {
    "classifier": OneOf(CLASSIFIERS),
    "gate_metric": OneOf(GATE_METRICS),
    "gate_threshold": Range(0.0, 1.0),
    "promotion_margin": Range(0.0, 1.0, high_open=True),
    "tune_folds": Range(2, 20, whole=True),
}


def range_problems(
    declared: set[str] | dict[str, Any], values: dict[str, Any]
) -> list[tuple[str, str]]:
    """(parameter, problem) for every value of a declared, ruled parameter outside its range."""
    found = []
    for name, value in values.items():
        rule = RULES.get(name)
        if rule is not None and name in declared:
            problem = rule.problem(value)
            if problem:
                found.append((name, problem))
    return found
