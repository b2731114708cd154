"""The documented ranges of the model-level parameters (contract/parameter_ranges.py)."""

from __future__ import annotations

import pytest

from contract.parameter_ranges import CLASSIFIERS, GATE_METRICS, RULES, range_problems
from contract.params import ParamDecl, check_caller_parameters

DECLS = {
    "tune_folds": ParamDecl("tune_folds", "NUMBER_INTEGER", True, 3),
    "gate_threshold": ParamDecl("gate_threshold", "NUMBER_DOUBLE", True, 0.5),
    "promotion_margin": ParamDecl("promotion_margin", "NUMBER_DOUBLE", True, 0.0),
    "classifier": ParamDecl("classifier", "STRING", True, "lr"),
    "gate_metric": ParamDecl("gate_metric", "STRING", True, "auc_pr"),
    "seed": ParamDecl("seed", "NUMBER_INTEGER", True, 42),
}


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("tune_folds", [2, 3, 20, 5.0], [1, 0, -3, 21, 2.5]),
        ("gate_threshold", [0, 0.0, 0.6, 1, 1.0], [-0.01, 1.01, 60]),
        ("promotion_margin", [0, 0.02, 0.999], [1, 1.0, -0.1]),
        ("classifier", ["lr", "gbt", "rf"], ["xgb", "LR", ""]),
        ("gate_metric", list(GATE_METRICS), ["AUC", "auc", "roc_curve", "n_train"]),
    ],
)
def test_each_rule_takes_its_range_and_names_it_otherwise(name, inside, outside):
    for value in inside:
        assert range_problems(DECLS, {name: value}) == [], value
    for value in outside:
        [(which, problem)] = range_problems(DECLS, {name: value})
        assert which == name and problem.startswith("must be "), (value, problem)
        assert RULES[name].describe() in problem


def test_a_caller_gets_a_parameter_error_per_value_out_of_range():
    _, errors = check_caller_parameters(
        DECLS, {"tune_folds": 1, "gate_threshold": 60.0, "seed": -7, "classifier": "gbt"}
    )

    assert [str(e) for e in errors] == [
        "parameter 'tune_folds': must be a whole number from 2 to 20, got 1",
        "parameter 'gate_threshold': must be a number from 0 to 1, got 60.0",
    ]


def test_a_rule_applies_only_where_the_pipeline_declares_the_parameter():
    assert range_problems({"seed": DECLS["seed"]}, {"tune_folds": 1}) == []


def test_the_lists_match_what_spark_trains_and_reports():
    from churn.features import CLASSIFIERS as SPARK_CLASSIFIERS

    from local.report import SCALARS

    assert sorted(CLASSIFIERS) == sorted(SPARK_CLASSIFIERS)
    assert sorted(GATE_METRICS) == sorted(SCALARS)
