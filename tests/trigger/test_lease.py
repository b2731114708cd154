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
