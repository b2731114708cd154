"""Next fire times in the schedule's own time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduling.cron import next_fire_times


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stamps(times: list[datetime]) -> list[str]:
    return [t.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for t in times]


def test_weekly_monday_three_am_amsterdam_keeps_local_time_across_autumn_change():
    times = next_fire_times("0 3 * * 1", "Europe/Amsterdam", utc("2026-10-15 00:00"), 3)
    # 03:00 local each Monday: UTC+2 before 25 Oct 2026, UTC+1 after
    assert stamps(times) == ["2026-10-19 01:00", "2026-10-26 02:00", "2026-11-02 02:00"]
    assert [t.strftime("%a %H:%M %z") for t in times] == [
        "Mon 03:00 +0200",
        "Mon 03:00 +0100",
        "Mon 03:00 +0100",
    ]


def test_weekly_across_spring_change():
    times = next_fire_times("0 3 * * 1", "Europe/Amsterdam", utc("2026-03-20 00:00"), 2)
    assert stamps(times) == ["2026-03-23 02:00", "2026-03-30 01:00"]


def test_a_wall_clock_time_skipped_by_the_spring_change_fires_an_hour_later_on_the_clock():
    # 29 Mar 2026 02:00 -> 03:00 in Amsterdam: 02:30 does not exist that day
    times = next_fire_times("30 2 * * *", "Europe/Amsterdam", utc("2026-03-28 12:00"), 3)
    assert stamps(times) == ["2026-03-29 01:30", "2026-03-30 00:30", "2026-03-31 00:30"]
    assert times[0].strftime("%H:%M %z") == "03:30 +0200"


def test_a_wall_clock_time_repeated_by_the_autumn_change_fires_once():
    # 25 Oct 2026 03:00 -> 02:00 in Amsterdam: 02:30 happens twice that day
    times = next_fire_times("30 2 * * *", "Europe/Amsterdam", utc("2026-10-24 12:00"), 2)
    assert stamps(times) == ["2026-10-25 00:30", "2026-10-26 01:30"]


def test_hourly_job_across_autumn_change_is_strictly_increasing_without_repeats():
    times = next_fire_times("0 * * * *", "Europe/Amsterdam", utc("2026-10-24 22:30"), 4)
    assert stamps(times) == [
        "2026-10-24 23:00",  # 01:00 CEST
        "2026-10-25 00:00",  # 02:00 CEST (first 02:00)
        "2026-10-25 02:00",  # 03:00 CET
        "2026-10-25 03:00",
    ]


def test_southern_hemisphere_and_utc():
    sydney = next_fire_times("0 9 * * *", "Australia/Sydney", utc("2026-04-03 00:00"), 2)
    # Sydney leaves daylight time (UTC+11 -> UTC+10) early on 5 Apr 2026
    assert stamps(sydney) == ["2026-04-03 22:00", "2026-04-04 23:00"]
    assert stamps(next_fire_times("*/30 * * * *", "utc", utc("2026-01-01 00:00"), 2)) == [
        "2026-01-01 00:30",
        "2026-01-01 01:00",
    ]


def test_strictly_after_the_start():
    times = next_fire_times("0 3 * * 1", "Europe/Amsterdam", utc("2026-10-19 01:00"), 1)
    assert stamps(times) == ["2026-10-26 02:00"]


def test_an_expression_that_never_fires_gives_no_times():
    assert next_fire_times("0 0 31 2 *", "UTC", utc("2026-01-01 00:00"), 3) == []
