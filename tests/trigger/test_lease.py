"""The lease decision (pure): who holds a schedule's slots, and whether a fire may take one."""

from __future__ import annotations

from lease import Holder, decide, parse, released, render

NOW = 1_000_000.0


def test_a_free_schedule_gives_the_slot_to_the_fire():
    decision = decide([], set(), set(), "j1", limit=1, now=NOW)

    assert decision.outcome == "take"
    assert decision.holders == (Holder("j1", NOW),)


def test_a_young_holder_that_vertex_does_not_list_yet_still_counts():
    holders = [Holder("j1", NOW - 5)]

    decision = decide(holders, running=set(), unfinished={"j1"}, job="j2", limit=1, now=NOW)

    assert decision.outcome == "full"
    assert decision.running == ("j1",)


def test_a_holder_whose_job_ended_or_that_is_too_old_frees_its_slot():
    holders = [Holder("ended", NOW - 5), Holder("stale", NOW - 10_000)]

    decision = decide(holders, set(), {"stale"}, "j2", limit=1, now=NOW, grace=600)

    assert decision.outcome == "take"
    assert [h.job for h in decision.holders] == ["j2"]


def test_running_jobs_count_even_without_a_lease_entry():
    decision = decide([], {"manual-run"}, set(), "j2", limit=1, now=NOW)

    assert decision.outcome == "full"


def test_a_redelivery_racing_its_first_delivery_runs_on_the_same_slot():
    decision = decide([Holder("j1", NOW - 1)], set(), {"j1"}, "j1", limit=1, now=NOW)

    assert decision.outcome == "held"


def test_the_object_round_trips_and_garbage_holds_nothing():
    holders = (Holder("a", 1.5), Holder("b", 2.0))

    assert tuple(parse(render(holders, "s"))) == holders
    assert parse(b"not json") == parse(b'{"holders": [{"job": 1}]}') == parse(None) == []
    assert released(list(holders), "a") == (Holder("b", 2.0),)


def test_a_holder_dated_after_its_object_was_written_is_judged_by_the_object():
    # a writer's clock ten years ahead, or a tampered object: the object itself was written
    # (server time) 700 s ago, so the holder cannot be younger than that
    written = render((Holder("future", NOW + 315_360_000),), "s")

    holders = parse(written, written_at=NOW - 700)

    assert holders == [Holder("future", NOW - 700)]
    decision = decide(holders, set(), {"future"}, "j2", limit=1, now=NOW, grace=600)
    assert decision.outcome == "take"
    assert [h.job for h in decision.holders] == ["j2"]  # the capped holder is not written back


def test_within_the_grace_period_a_future_dated_holder_still_holds():
    holders = parse(render((Holder("future", NOW + 10**9),), "s"), written_at=NOW - 5)

    assert decide(holders, set(), {"future"}, "j2", limit=1, now=NOW).outcome == "full"


def test_non_numbers_for_since_hold_nothing():
    data = b'{"holders": [{"job": "a", "since": NaN}, {"job": "b", "since": Infinity}]}'

    assert parse(data) == []
    assert parse(data, written_at=NOW) == [Holder("b", NOW)]
