"""Champion/challenger: promote a new model only when it is good enough and better. Pure logic."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from contract.metrics import LOWER_IS_BETTER, beats, passes


@dataclass(frozen=True)
class Decision:
    """Whether the challenger becomes champion, why, and the figures it was decided on."""

    promote: bool
    reason: str
    metric: str
    challenger: float
    champion: float | None
    champion_version: str
    threshold: float
    margin: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def decide(
    metric: str,
    challenger: float,
    *,
    threshold: float,
    margin: float,
    champion: float | None = None,
    champion_version: str = "",
    champion_problem: str = "",
) -> Decision:
    """Promote when the challenger passes the absolute gate and, if a champion was scored on the
    same test split, beats it by more than `margin` (contract.metrics.beats).

    With no champion (first run) or a champion that could not be scored (`champion_problem`,
    e.g. it expects other input columns), the absolute gate alone decides.
    """
    if margin < 0:
        raise ValueError(f"promotion_margin must be >= 0, got {margin}")
    lower = metric in LOWER_IS_BETTER
    comparison = "<=" if lower else ">="

    def result(promote: bool, reason: str) -> Decision:
        return Decision(
            promote, reason, metric, challenger, champion, champion_version, threshold, margin
        )

    if not passes(metric, challenger, threshold):
        return result(
            False,
            f"gate failed: {metric} {_fmt(challenger)} is not {comparison} {threshold}",
        )
    if champion is None:
        why = (
            f"champion {champion_version} could not be scored ({champion_problem}); "
            if (champion_version)
            else "no champion yet; "
        )
        return result(
            True, why + f"gate passed: {metric} {_fmt(challenger)} {comparison} {threshold}"
        )
    improvement = champion - challenger if lower else challenger - champion
    if beats(metric, challenger, champion, margin):
        return result(
            True,
            f"challenger beats champion {champion_version}: {metric} {_fmt(challenger)} vs "
            f"{_fmt(champion)} (improvement {_fmt(improvement)} > margin {margin})",
        )
    return result(
        False,
        f"champion {champion_version} stays: challenger {metric} {_fmt(challenger)} vs "
        f"champion {_fmt(champion)} (improvement {_fmt(improvement)}, margin {margin})",
    )
