"""Every derived name: job ids, labels, version tags (contract/naming.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from contract.naming import (
    is_pipeline_name,
    is_version_tag,
    job_id,
    job_labels,
    manual_job_id,
    schedule_label,
)

JOB_ID = re.compile(r"[a-z][-a-z0-9]*")
LABEL = re.compile(r"[a-z0-9_-]{0,63}")
FIRE = datetime(2026, 11, 30, 3, 0, tzinfo=timezone(timedelta(hours=1)))


def test_a_fire_id_is_environment_schedule_and_utc_fire_time():
    assert job_id("prod", "churn-training-weekly", FIRE) == (
        "prod-churn-training-weekly-20261130t020000z"
    )
    assert job_id("dev", "churn-training-weekly", FIRE) != job_id(
        "prod", "churn-training-weekly", FIRE
    )


@given(st.text(min_size=1, max_size=400), st.datetimes(timezones=st.just(UTC)))
def test_ids_are_valid_vertex_ids_under_128_characters(name, when):
    for made in (job_id("prod", name, when), manual_job_id("prod", name, when, "abc123")):
        assert JOB_ID.fullmatch(made)
        assert len(made) < 128


def test_long_names_stay_distinct_by_their_hash():
    a, b = ("x" * 300 + "a", "x" * 300 + "b")

    assert job_id("prod", a, FIRE) != job_id("prod", b, FIRE)
    assert schedule_label(a) != schedule_label(b)
    assert len(schedule_label(a)) == 63


@given(st.text(min_size=1, max_size=200))
def test_labels_carry_environment_schedule_and_fire_time_and_are_always_valid(name):
    labels = job_labels("prod", "churn-training", "v1.2", name, FIRE)

    assert all(LABEL.fullmatch(k) and LABEL.fullmatch(v) for k, v in labels.items())
    assert labels["environment"] == "prod"
    assert labels["fire-time"] == "20261130t020000z"
    assert labels["schedule"] == schedule_label(name)
    assert labels["trigger"] == "scheduler"


def test_manual_runs_have_no_fire_time_label():
    labels = job_labels("dev", "churn-scoring", "v1", None, None)

    assert labels == {
        "environment": "dev",
        "pipeline": "churn-scoring",
        "template-version": "v1",
        "trigger": "manual",
    }


def test_version_tags_are_one_publishable_path_segment():
    assert all(map(is_version_tag, ["v1", "2026.11.30", "v1_rc-2", "a" * 128]))
    assert not any(
        map(
            is_version_tag,
            ["latest", "v1+build", "../v1", ".v1", "a/b", "", "a" * 129, "a..b", "v1..", "v1...2"],
        )
    )


def test_pipeline_names_follow_kfp_and_are_case_sensitive():
    from kfp.dsl.utils import validate_pipeline_name

    for name in ("churn-training", "churn-scoring", "a", "0-x", "a" * 128):
        assert is_pipeline_name(name)
        validate_pipeline_name(name)  # KFP's own check accepts what ours accepts
    for name in ("Churn-Training", "churn_training", "-x", "", "a" * 129, "a.b", "churn/x"):
        assert not is_pipeline_name(name)
