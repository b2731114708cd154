"""Logical dates: one function renders them (contract.logical_dates); validate refuses bad ones
at file:line; the trigger refuses them with a 400 and sets nothing it was not asked to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract import logical_dates as ld
from scheduling.validate import validate_tree

SLOT = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 on the 25th in Amsterdam (CEST)


def test_fields_follow_the_schedules_zone():
    assert ld.fields(SLOT, "Europe/Amsterdam") == {
        "fire_date": "2026-10-25",
        "fire_time": "2026-10-24T22:30:00Z",
        "fire_stamp": "20261024t223000z",
    }
    assert ld.fields(SLOT, "UTC")["fire_date"] == "2026-10-24"
    assert ld.render("raw/{fire_date}/x-{{literal}}.csv", SLOT, "Asia/Tokyo") == (
        "raw/2026-10-25/x-{literal}.csv"
    )


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("raw/{fire_day}/x.csv", "names '{fire_day}'"),
        ("raw/{fire_date/x.csv", "unbalanced braces"),
        ("raw/}x.csv", "unbalanced braces"),
        ("raw/{fire_date:%Y}.csv", "takes no format"),
        ("raw/{fire_date!r}.csv", "takes no format"),
        ("raw/{}.csv", "names '{}'"),
    ],
)
def test_bad_templates_are_named(value, needle):
    [problem] = ld.template_problems(value)
    assert needle in problem
    with pytest.raises(ValueError, match=r"brace|names|format"):
        ld.render(value, SLOT, "UTC")


def test_zones_are_iana_names_only():
    for bad in ("Mars/Olympus", "../../etc/passwd", "localtime", "right/UTC", ""):
        with pytest.raises(ValueError):
            ld.zone(bad)
    assert str(ld.zone("UTC")) == "UTC"
    # exact tz database names only, the same on a case-insensitive disk (contract/time_zones.py)
    for inexact in ("utc", "europe/amsterdam"):
        with pytest.raises(ValueError, match=r"write 'UTC'|use 'Europe/Amsterdam'"):
            ld.zone(inexact)


def test_validate_refuses_bad_placeholders_and_fire_time_at_file_line(tmp_path, monkeypatch):
    import shutil

    from tests.scheduling.conftest import REPO

    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "schedules", tmp_path / "schedules")
    (tmp_path / "schedules" / "ok.yaml").write_text(
        "pipeline: churn-scoring\ncron: '0 1 * * *'\nparameters:\n"
        "  customers_path: customers/{fire_date}.csv\n"
    )
    (tmp_path / "schedules" / "bad.yaml").write_text(
        "pipeline: churn-scoring\ncron: '0 1 * * *'\nparameters:\n"
        "  customers_path: customers/{fire_day}.csv\n"
        "  model: 'churn@{fire_date'\n"
        "  fire_time: '2026-01-01T00:00:00Z'\n"
    )
    result = validate_tree("schedules", REPO / "build" / "vertex")
    messages = [str(p) for p in result.problems]
    assert not [m for m in messages if m.startswith("schedules/ok.yaml")]
    assert any(m.startswith("schedules/bad.yaml:4: parameter 'customers_path'") and
               "'{fire_day}'" in m for m in messages), messages  # fmt: skip
    assert any(m.startswith("schedules/bad.yaml:5: parameter 'model'") and
               "unbalanced braces" in m for m in messages), messages  # fmt: skip
    assert any(m.startswith("schedules/bad.yaml:6: parameter 'fire_time' is set by the trigger")
               for m in messages), messages  # fmt: skip
