"""tune's search: successive halving over cross-validation folds.

A full grid search fits every candidate on every fold (8 candidates x 3 folds = 24 fits). Here
every candidate is first scored on one fold; only the best third (at least two) go on to the
remaining folds, and the winner is the best mean over all folds among those: 14 fits instead
of 24 for the default grid. `--search grid` keeps the full search; bench/pipelines.py runs
both and prints the held-out quality of what each picks.

`successive_halving` is pure logic over a `score(candidate, fold)` callback; `cross_validate`
supplies that callback with Spark (folds cached once, fits run one after the other, which also
works over Spark Connect where a thread has no active session).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

FOLD_COL = "_fold"


@dataclass(frozen=True)
class SearchResult:
    """Mean score per candidate over the folds it was scored on, and the winner."""

    scores: list[float]
    folds_scored: list[int]
    best: int


def survivors(scores: Sequence[float], keep_share: float = 1 / 3, minimum: int = 2) -> list[int]:
    """Indices of the best `keep_share` of candidates (at least `minimum`), best first."""
    keep = max(minimum, math.ceil(len(scores) * keep_share))
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return ranked[:keep]


def successive_halving(
    n_candidates: int, folds: int, score: Callable[[int, int], float]
) -> SearchResult:
    """Score all candidates on fold 0, the survivors on every fold; best mean wins (ties: first)."""
    if n_candidates < 1:
        raise ValueError("no candidates to search")
    per_fold: list[list[float]] = [[score(i, 0)] for i in range(n_candidates)]
    finalists = (
        survivors([s[0] for s in per_fold]) if n_candidates > 2 else list(range(n_candidates))
    )
    for i in sorted(finalists):
        per_fold[i] += [score(i, fold) for fold in range(1, folds)]
    means = [sum(s) / len(s) for s in per_fold]
    best = min(sorted(finalists), key=lambda i: (-means[i], i))
    return SearchResult(scores=means, folds_scored=[len(s) for s in per_fold], best=best)


def full_grid(n_candidates: int, folds: int, score: Callable[[int, int], float]) -> SearchResult:
    """Every candidate on every fold (what CrossValidator does); best mean wins (ties: first)."""
    if n_candidates < 1:
        raise ValueError("no candidates to search")
    means = [sum(score(i, f) for f in range(folds)) / folds for i in range(n_candidates)]
    best = min(range(n_candidates), key=lambda i: (-means[i], i))
    return SearchResult(scores=means, folds_scored=[folds] * n_candidates, best=best)


SEARCHES = {"halving": successive_halving, "grid": full_grid}


def with_folds(df: DataFrame, folds: int, seed: int) -> DataFrame:
    """`df` with a seeded fold number per row, cached (every fit reads it)."""
    from pyspark.sql import functions as F  # noqa: N812

    return df.withColumn(FOLD_COL, F.floor(F.rand(seed) * folds).cast("int")).cache()


def cross_validate(
    data: DataFrame,
    stage_sets: Sequence[list[Any]],
    folds: int,
    label_col: str,
    search: str = "halving",
) -> SearchResult:
    """Search `stage_sets` (each a list of pipeline stages) by areaUnderROC; see SEARCHES."""
    from pyspark.ml import Pipeline
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import functions as F  # noqa: N812

    evaluator = BinaryClassificationEvaluator(labelCol=label_col, metricName="areaUnderROC")
    splits: dict[int, tuple[DataFrame, DataFrame]] = {}

    def split(fold: int) -> tuple[DataFrame, DataFrame]:
        if fold not in splits:
            fold_col = F.col(FOLD_COL)
            splits[fold] = (data.where(fold_col != fold), data.where(fold_col == fold))
        return splits[fold]

    def score(candidate: int, fold: int) -> float:
        train, valid = split(fold)
        model = Pipeline(stages=list(stage_sets[candidate])).fit(train)
        return float(evaluator.evaluate(model.transform(valid)))

    return SEARCHES[search](len(stage_sets), folds, score)
