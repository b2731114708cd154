"""The CEL subset of IAM Conditions (fakes/iam_cel.py): `||` and `&&` in three-valued logic."""

from __future__ import annotations

import pytest

from fakes.iam_cel import UNKNOWN, parse

# `a` is true, `b` false, and `u` an attribute the request does not carry (unknown).
ATTRIBUTES = {"x.a": "yes", "x.b": "no"}
OPERANDS = {"true": 'x.a == "yes"', "false": 'x.b == "yes"', "unknown": 'x.u == "yes"'}
EXPECTED = {
    # (left, right): (left || right, left && right)
    ("true", "true"): (True, True),
    ("true", "false"): (True, False),
    ("true", "unknown"): (True, UNKNOWN),
    ("false", "false"): (False, False),
    ("false", "unknown"): (UNKNOWN, False),
    ("unknown", "unknown"): (UNKNOWN, UNKNOWN),
}


@pytest.mark.parametrize(("left", "right"), sorted(EXPECTED))
def test_or_and_and_follow_three_valued_logic_in_both_orders(left, right):
    either, both = EXPECTED[(left, right)]
    for a, b in ((left, right), (right, left)):
        assert parse(f"{OPERANDS[a]} || {OPERANDS[b]}").evaluate(ATTRIBUTES) is either
        assert parse(f"{OPERANDS[a]} && {OPERANDS[b]}").evaluate(ATTRIBUTES) is both
    assert parse(f"{OPERANDS[left]} || {OPERANDS[right]}").grants(ATTRIBUTES) is (either is True)
