"""tune's search (successive halving), the shared job arguments and the summary line: no Spark."""

from __future__ import annotations

import pytest
from churn import cli
from churn.features import column_importances
from churn.tuning import full_grid, successive_halving, survivors


def one_by_one(score):
    """A batch scorer over a plain score(candidate, fold)."""
    return lambda pairs: [score(c, f) for c, f in pairs]


def test_survivors_keep_the_best_quarter_but_at_least_two():
    assert survivors([0.5, 0.9, 0.7, 0.8, 0.6, 0.4]) == [1, 3]
    assert survivors([0.1, 0.3, 0.2]) == [1, 2]
    assert survivors([0.5, 0.9, 0.7, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1]) == [1, 3, 2]
    assert survivors([0.5, 0.9, 0.7, 0.8, 0.6, 0.4, 0.3, 0.2]) == [1, 3]


def test_halving_scores_losers_on_one_fold_and_finalists_on_all():
    # fold 0 ranks 2 > 1 > 0 > 3; on later folds candidate 1 is better, so it wins on the mean
    table = {0: [0.70, 0.70, 0.70], 1: [0.80, 0.90, 0.90], 2: [0.85, 0.75, 0.75], 3: [0.5] * 3}
    calls = []

    def score(candidate: int, fold: int) -> float:
        calls.append((candidate, fold))
        return table[candidate][fold]

    result = successive_halving(4, 3, one_by_one(score))
    assert result.best == 1
    assert result.folds_scored == [1, 3, 3, 1]
    assert result.scores[1] == pytest.approx((0.8 + 0.9 + 0.9) / 3)
    assert result.scores[3] == 0.5
    assert len(calls) == 4 + 2 * 2 and len(set(calls)) == len(calls)


def test_halving_with_two_candidates_is_plain_cross_validation():
    result = successive_halving(2, 2, one_by_one(lambda c, f: [0.6, 0.7][c] + 0.01 * f))
    assert result.folds_scored == [2, 2] and result.best == 1


def test_halving_breaks_ties_towards_the_first_candidate():
    assert successive_halving(3, 2, one_by_one(lambda c, f: 0.75)).best == 0


def test_halving_refuses_an_empty_grid():
    with pytest.raises(ValueError, match="no candidates"):
        successive_halving(0, 3, one_by_one(lambda c, f: 0.0))


def test_train_and_tune_share_one_argument_parser():
    parser = cli.model_job_parser("x", classifier_default="rf", classifier_help="h")
    args = parser.parse_args(["--input", "in", "--output", "out", "--seed", "7.0"])
    assert cli.model_job_arguments(args) == {
        "input_uri": "in",
        "output_uri": "out",
        "classifier": "rf",
        "seed": 7,
        "test_fraction": 0.2,
        "model_version": None,
    }


def test_summary_line_picks_the_figures_people_glance_at():
    assert cli.summary_line({"rows_written": 7043, "churn_rate": 0.2654}) == (
        "7,043 rows, churn rate 26.5%"
    )
    metrics = {"auc_roc": 0.84, "auc_pr": 0.61, "params": {"classifier": "lr"}, "roc_curve": {}}
    assert cli.summary_line(metrics) == "lr, auc_roc 0.8400, auc_pr 0.6100"
    assert cli.summary_line({"nothing": 1}) == ""


def test_column_importances_group_one_hot_levels():
    names = ["tenure", "contract=Month-to-month", "contract=Two year", "online_security=No"]
    rows = column_importances(names, [0.2, 0.3, 0.1, 0.0])
    assert rows == [
        {"column": "contract", "importance": 0.4},
        {"column": "tenure", "importance": 0.2},
    ]


def test_full_grid_scores_everything_on_every_fold():
    result = full_grid(3, 2, one_by_one(lambda c, f: [0.6, 0.8, 0.7][c] + 0.01 * f))
    assert result.folds_scored == [2, 2, 2] and result.best == 1
    assert result.scores[0] == pytest.approx(0.605)
