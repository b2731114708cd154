"""tune's search: successive halving over cross-validation folds.

A full grid search fits every candidate on every fold (8 candidates x 3 folds = 24 fits). Here
every candidate is first scored on one fold; only the best quarter (at least two) go on to the
remaining folds, and the winner is the best mean over all folds among those: 12 fits instead
of 24 for the default grid. `--search grid` keeps the full search; bench/pipelines.py runs
both and prints the held-out quality of what each picks.

`successive_halving` is pure logic over a callback scoring (candidate, fold) pairs;
`cross_validate` supplies it with Spark: folds cached once, two fits in flight at a time.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

FOLD_COL = "_fold"


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """Mean score per candidate over the folds it was scored on, and the winner."""

    scores: list[float]
    folds_scored: list[int]
    best: int
    #: Wall seconds spent fitting and scoring each candidate (filled in by cross_validate).
    seconds: list[float] = dataclasses.field(default_factory=list)


def survivors(scores: Sequence[float], keep_share: float = 1 / 4, minimum: int = 2) -> list[int]:
    """Indices of the best `keep_share` of candidates (at least `minimum`), best first."""
    keep = max(minimum, math.ceil(len(scores) * keep_share))
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return ranked[:keep]


#: Scores a batch of (candidate, fold) pairs, in the order given (possibly several at once).
ScoreBatch = Callable[[list[tuple[int, int]]], list[float]]


def successive_halving(n_candidates: int, folds: int, score_batch: ScoreBatch) -> SearchResult:
    """Score all candidates on fold 0, the survivors on every fold; best mean wins (ties: first)."""
    if n_candidates < 1:
        raise ValueError("no candidates to search")
    per_fold: list[list[float]] = [[s] for s in score_batch([(i, 0) for i in range(n_candidates)])]
    finalists = (
        survivors([s[0] for s in per_fold]) if n_candidates > 2 else list(range(n_candidates))
    )
    pairs = [(i, fold) for i in sorted(finalists) for fold in range(1, folds)]
    for (i, _), value in zip(pairs, score_batch(pairs), strict=True):
        per_fold[i].append(value)
    means = [sum(s) / len(s) for s in per_fold]
    best = min(sorted(finalists), key=lambda i: (-means[i], i))
    return SearchResult(scores=means, folds_scored=[len(s) for s in per_fold], best=best)


def full_grid(n_candidates: int, folds: int, score_batch: ScoreBatch) -> SearchResult:
    """Every candidate on every fold (what CrossValidator does); best mean wins (ties: first)."""
    if n_candidates < 1:
        raise ValueError("no candidates to search")
    pairs = [(i, f) for i in range(n_candidates) for f in range(folds)]
    values = score_batch(pairs)
    means = [sum(values[i * folds : (i + 1) * folds]) / folds for i in range(n_candidates)]
    best = min(range(n_candidates), key=lambda i: (-means[i], i))
    return SearchResult(scores=means, folds_scored=[folds] * n_candidates, best=best)


SEARCHES = {"halving": successive_halving, "grid": full_grid}


def with_folds(df: DataFrame, folds: int, seed: int) -> DataFrame:
    """`df` with a seeded fold number per row, cached (every fit reads it)."""
    from pyspark.sql import functions as F  # noqa: N812

    return df.withColumn(FOLD_COL, F.floor(F.rand(seed) * folds).cast("int")).cache()


def cross_validate(
    data: DataFrame,
    estimators: Sequence[Any],
    folds: int,
    label_col: str,
    search: str = "halving",
    parallelism: int = 2,
) -> SearchResult:
    """Search the candidate `estimators` (each fitted on `data` as it is) by AUC-ROC; see
    SEARCHES.

    `parallelism` fits run at once: on small data each Spark job is mostly scheduling latency,
    so two fits in flight keep two cores busy.
    """
    from pyspark.sql import functions as F  # noqa: N812

    from churn.metrics import binned_auc_roc

    session = data.sparkSession
    seconds = [0.0] * len(estimators)

    def score(pair: tuple[int, int]) -> float:
        candidate, fold = pair
        _activate(session)
        train = data.where(F.col(FOLD_COL) != fold)
        valid = data.where(F.col(FOLD_COL) == fold)
        started = time.monotonic()
        model = estimators[candidate].fit(train)
        value = binned_auc_roc(model.transform(valid), label_col)
        seconds[candidate] += time.monotonic() - started
        return value

    def score_batch(pairs: list[tuple[int, int]]) -> list[float]:
        if parallelism <= 1:
            return [score(pair) for pair in pairs]
        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            return list(pool.map(score, pairs))

    result = SEARCHES[search](len(estimators), folds, score_batch)
    return dataclasses.replace(result, seconds=[round(s, 2) for s in seconds])


def _activate(session: Any) -> None:
    """Make `session` the active session of the calling (pool) thread.

    pyspark.ml finds the session per thread, and a Spark Connect session is active only in the
    thread that created it; pyspark 4.0 has no public call for this, so its own helper is used
    (tests/local/test_local_run.py tunes through a Connect server).
    """
    from churn.session import is_connect

    if is_connect(session):
        type(session)._set_default_and_active_session(session)
