"""Pure logic: references, version ids, champion/challenger decisions, record parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.metrics import NOISE
from model_registry import MalformedRecordError, RegistryError, parse_ref
from model_registry.decision import decide
from model_registry.layout import VERSION, new_version_id
from model_registry.records import Move, parse_move


def test_references_name_an_alias_a_pinned_version_or_the_champion():
    assert parse_ref("churn@champion").alias == "champion"
    assert parse_ref("churn").alias == "champion"
    pinned = parse_ref("churn@v20261130t020000z-1a2b3c4d")
    assert (pinned.model, pinned.version, pinned.alias) == ("churn", pinned.version, "")
    assert str(pinned) == "churn@v20261130t020000z-1a2b3c4d"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a model name"),
        ("Churn@champion", "not a model name"),
        ("churn@../../x", "not an alias name"),
        ("churn@20261130t020000z-1", "not an alias name"),
        ("churn@Champion", "not an alias name"),
    ],
)
def test_bad_references_say_what_is_wrong(text, message):
    with pytest.raises(RegistryError, match=message):
        parse_ref(text, where="model")


def test_version_ids_sort_by_time_and_differ_per_run():
    early = new_version_id(datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "prod-weekly-1")
    late = new_version_id(datetime(2026, 12, 7, 2, 0, tzinfo=UTC), "prod-weekly-0")
    other = new_version_id(datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "prod-manual-1")
    assert early < late and early != other
    assert all(VERSION.match(v) for v in (early, late, other))


def test_first_run_the_absolute_gate_decides():
    assert decide("auc_pr", 0.61, threshold=0.6, margin=0.01).promote
    refused = decide("auc_pr", 0.59, threshold=0.6, margin=0.01)
    assert not refused.promote and "gate failed" in refused.reason


def test_a_worse_challenger_is_not_promoted_a_better_one_is_and_the_margin_counts():
    worse = decide("auc_pr", 0.70, threshold=0.6, margin=0.0, champion=0.72, champion_version="v1")
    assert not worse.promote and "champion v1 stays" in worse.reason
    better = decide(
        "auc_pr", 0.75, threshold=0.6, margin=0.01, champion=0.72, champion_version="v1"
    )
    assert better.promote and "beats champion v1" in better.reason
    within = decide(
        "auc_pr", 0.725, threshold=0.6, margin=0.01, champion=0.72, champion_version="v1"
    )
    assert not within.promote
    tie = decide("auc_pr", 0.72, threshold=0.6, margin=0.0, champion=0.72, champion_version="v1")
    assert not tie.promote
    # the same model scored twice: Spark's sums differ in the last digit, not a better model
    noise = decide(
        "auc_pr",
        0.6220217076105944,
        threshold=0.5,
        margin=0.0,
        champion=0.6220217076105942,
        champion_version="v1",
    )
    assert not noise.promote and "champion v1 stays" in noise.reason
    assert not decide("log_loss", 0.43 - 1e-15, threshold=0.5, margin=0.0, champion=0.43).promote


def test_lower_is_better_metrics_compare_the_other_way():
    assert decide("log_loss", 0.40, threshold=0.5, margin=0.01, champion=0.45).promote
    assert not decide("log_loss", 0.44, threshold=0.5, margin=0.02, champion=0.45).promote
    assert not decide("log_loss", 0.55, threshold=0.5, margin=0.0).promote


def test_a_champion_that_cannot_be_scored_leaves_the_decision_to_the_gate():
    decision = decide(
        "auc_pr", 0.65, threshold=0.6, margin=0.0, champion_version="v1", champion_problem="cols"
    )
    assert decision.promote and "could not be scored (cols)" in decision.reason


def test_a_negative_margin_is_refused():
    with pytest.raises(ValueError, match="promotion_margin"):
        decide("auc_pr", 0.7, threshold=0.6, margin=-0.1)


@given(
    challenger=st.floats(0, 1),
    champion=st.floats(0, 1),
    margin=st.floats(0, 0.2),
    threshold=st.floats(0, 1),
)
def test_a_promotion_always_passes_the_gate_and_beats_the_champion(
    challenger, champion, margin, threshold
):
    decision = decide("auc_pr", challenger, threshold=threshold, margin=margin, champion=champion)
    if decision.promote:
        assert challenger >= threshold and challenger > champion + margin
    else:
        assert challenger < threshold or challenger <= champion + margin + NOISE


def test_a_move_round_trips_and_must_sit_under_its_own_name():
    move = Move("churn", "champion", "v20261130t020000z-1", "", "t", "me", "why", "abc")
    assert parse_move(move.to_json(), "x", "churn", "champion") == move
    with pytest.raises(MalformedRecordError, match="pointer of 'churn@staging'"):
        parse_move(move.to_json(), "x", "churn", "staging")
