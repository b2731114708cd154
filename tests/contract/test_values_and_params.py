"""Typing parameter values: nothing is silently rounded, nothing unencodable passes, owners hold."""

from __future__ import annotations

import pytest

from contract.params import ParamDecl, check_caller_parameters, coerce_value
from contract.values import MAX_DEPTH, json_depth, value_problems

SEED = ParamDecl("seed", "NUMBER_INTEGER", optional=True, default=42)
THRESHOLD = ParamDecl("gate_threshold", "NUMBER_DOUBLE", optional=True, default=0.5)
OPTIONS = ParamDecl("options", "STRUCT", optional=True, default={})
RAW = ParamDecl("raw_data_path", "STRING", optional=False)
DATA = ParamDecl("data_uri", "STRING", optional=True, default="gs://acme-dev-data")
DECLS = {d.name: d for d in (SEED, THRESHOLD, OPTIONS, RAW, DATA)}


@pytest.mark.parametrize("value", [1e300, 2.0**53 + 2, 2**53 + 1, -(2**53) - 1, 10**400])
def test_an_integer_parameter_refuses_values_a_double_cannot_carry_exactly(value):
    with pytest.raises(ValueError, match=r"parameter 'seed': integer .*outside ±2\*\*53"):
        coerce_value(SEED, value)


def test_an_integer_parameter_takes_whole_numbers_within_range():
    assert coerce_value(SEED, 2**53) == 2**53
    assert coerce_value(SEED, 7.0) == 7
    with pytest.raises(ValueError, match="expected integer"):
        coerce_value(SEED, 7.5)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": float("inf")}, r"value\.a: inf is not a finite number"),
        ({"a": [1, 10**400]}, r"value\.a\[1\]: integer with over 100 digits"),
        ({"a": "x\ud800y"}, r"value\.a: contains a lone UTF-16 surrogate"),
        ({"\udfff": 1}, "value key: contains a lone UTF-16 surrogate"),
    ],
)
def test_a_struct_refuses_what_protobuf_would_round_or_fail_on(value, problem):
    with pytest.raises(ValueError, match=problem):
        coerce_value(OPTIONS, value)


def test_nesting_is_bounded_in_values_and_found_in_raw_json_without_parsing():
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 1):
        node["x"] = {}
        node = node["x"]

    [problem] = value_problems(deep, "v")
    assert problem == "v" + ".x" * (MAX_DEPTH + 1) + f": nested more than {MAX_DEPTH} levels deep"
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b"[" * 1000 + b"]" * 1000) == 1000
    assert json_depth(b'{"a": "\\"[[["}') == 1


def test_a_double_refuses_overflowing_integers_and_infinity():
    for value in (10**400, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="finite number"):
            coerce_value(THRESHOLD, value)


def test_callers_may_not_set_deployment_parameters_nor_escape_locations():
    _, errors = check_caller_parameters(
        DECLS, {"data_uri": "gs://attacker", "raw_data_path": "../prod/raw.csv", "seed": 1}
    )

    assert {e.name: e.message.split(" (")[0] for e in errors} == {
        "data_uri": "'data_uri' belongs to the deployment",
        "raw_data_path": "'../prod/raw.csv' must not contain empty, '.' or '..' segments",
    }


def test_caller_parameters_that_are_allowed_come_back_typed():
    typed, errors = check_caller_parameters(DECLS, {"raw_data_path": "raw/a.csv", "seed": 3.0})

    assert errors == []
    assert typed == {"raw_data_path": "raw/a.csv", "seed": 3}
