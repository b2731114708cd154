"""Cron slots in a range (status, backfill) are exactly the fire times `next` computes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduling import cron

EXPRS = ("0 3 * * 1", "30 2 * * *", "*/30 * * * *", "0 9-17 * * MON-FRI", "15 2 1 * *",
         "0 2 29 2 *", "30 1-3 * * 0", "0 0 */2 * 1", "5/15 2 * 3,10 *", "0 3 13 * 5")  # fmt: skip
ZONES = ("Europe/Amsterdam", "UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")


def by_next(expr: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    out, after = [], start - timedelta(microseconds=1)
    while True:
        batch = [t for t in cron.next_fire_times(expr, tz, after, 200) if t < end]
        out += batch
        if len(batch) < 200:
            return out
        after = batch[-1]


@pytest.mark.parametrize("expr", EXPRS)
@pytest.mark.parametrize("start", [datetime(2026, 3, 20, 7, tzinfo=UTC),
                                   datetime(2026, 10, 15, 23, 59, tzinfo=UTC)])  # fmt: skip
def test_slots_equal_next_fire_times_across_dst(expr, start):
    for tz in ZONES:
        end = start + timedelta(days=45)
        assert cron.fire_times_between(expr, tz, start, end) == by_next(expr, tz, start, end)


def test_amsterdam_spring_forward_and_fall_back():
    spring = cron.fire_times_between(
        "30 2 * * *", "Europe/Amsterdam",
        datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC),
    )  # fmt: skip
    # 02:30 does not exist on 29 March: it fires at 03:30 CEST, the instant 01:30 UTC.
    assert [t.isoformat() for t in spring] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
    ]
    autumn = cron.fire_times_between(
        "30 2 * * *", "Europe/Amsterdam",
        datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC),
    )  # fmt: skip
    # 02:30 happens twice on 25 October: it fires once, at the first (CEST, 00:30 UTC).
    assert [t.astimezone(UTC).strftime("%d %H:%M") for t in autumn] == ["24 00:30", "25 00:30"]
