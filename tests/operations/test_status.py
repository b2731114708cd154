"""status: state, last attempt, recent runs, success rate and fires with no run, from list calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from contract.naming import job_id, job_labels, manual_job_id
from fakes.scheduler import _ts
from tests.operations.conftest import DAILY, PARENT, WEEKLY

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SCHEDULE = "churn-scoring-daily"


def slot(day: int) -> datetime:
    """The daily 05:30 Europe/Amsterdam slot (04:30 UTC in November)."""
    return datetime(2026, 11, day, 4, 30, tzinfo=UTC)


def add_run(vertex, fire: datetime | None, state: str, minutes: int = 20, error: str = "") -> str:
    """A run of the daily schedule, as the trigger labels it, with its times set."""
    created = fire or NOW - timedelta(minutes=30)
    run_id = (
        job_id("dev", SCHEDULE, fire) if fire else manual_job_id("dev", SCHEDULE, created, "x1")
    )
    labels = job_labels("dev", "churn-scoring", "v1", SCHEDULE, fire)
    vertex.add_job(PARENT, run_id, labels, f"PIPELINE_STATE_{state}")
    job = vertex.job(run_id)
    job.create_time = created + timedelta(seconds=2)
    job.start_time = created + timedelta(seconds=5)
    if state in ("SUCCEEDED", "FAILED"):
        job.end_time = job.start_time + timedelta(minutes=minutes)
    if error:
        job.error.message = error
    return run_id


def configured_since(fake, job: str, when: datetime) -> None:
    """Pretend the job's configuration last changed at `when`."""
    with fake.lock:
        fake.jobs[f"{PARENT}/jobs/{job}"].user_update_time.CopyFrom(_ts(when))


def last_attempt(fake, job: str, when: datetime, code: int, message: str) -> None:
    with fake.lock:
        stored = fake.jobs[f"{PARENT}/jobs/{job}"]
        stored.last_attempt_time.CopyFrom(_ts(when))
        stored.status.code, stored.status.message = code, message


def test_status_shows_runs_success_rate_and_a_fire_that_produced_no_run(run, applied, vertex):
    configured_since(applied, DAILY, NOW - timedelta(days=3))
    configured_since(applied, WEEKLY, NOW - timedelta(days=3))
    add_run(vertex, slot(25), "SUCCEEDED")
    failed = add_run(vertex, slot(27), "FAILED", error="train: Dataproc batch failed")
    running = add_run(vertex, None, "RUNNING")  # a manual run
    last_attempt(applied, DAILY, slot(27), 0, "")

    code, out, err = run("status", "--env", "dev", "--now", NOW.isoformat(), "--json")
    assert code == 0, err
    report = json.loads(out)
    daily = next(s for s in report["schedules"] if s["schedule"] == SCHEDULE)
    assert daily["state"] == "ENABLED"
    assert daily["next_fire"] == "2026-11-28T05:30:00+01:00"
    assert daily["next_fire_utc"] == "2026-11-28T04:30:00Z"
    assert daily["missed_fires"] == ["2026-11-26T04:30:00Z"]  # the 25th and 27th ran
    assert daily["last_slot"] == {"fire_time": "2026-11-27T04:30:00Z", "job_id": failed,
                                  "state": "FAILED"}  # fmt: skip
    assert (daily["succeeded"], daily["failed"], daily["success_rate"]) == (1, 1, 0.5)
    assert daily["running"] == [running]
    assert daily["last_attempt"] == {"time": "2026-11-27T04:30:00Z", "code": 0, "message": ""}
    recent = {r["job_id"]: r for r in daily["recent_runs"]}
    assert recent[failed]["error"] == "train: Dataproc batch failed"
    assert recent[failed]["duration"] == "20m00s"
    assert recent[failed]["link"] == (
        "https://console.cloud.google.com/vertex-ai/locations/europe-west4/pipelines/runs/"
        f"{failed}?project=acme-churn-dev"
    )
    weekly = next(s for s in report["schedules"] if s["schedule"] == "churn-training-weekly")
    # Monday 2026-11-23 03:00 Amsterdam was before the job's last change: not counted missed.
    assert weekly["missed_fires"] == [] and weekly["runs_in_window"] == 0

    code, out, _ = run("status", "--env", "dev", SCHEDULE, "--now", NOW.isoformat())
    assert code == 0
    assert "! fires with no run: 2026-11-26T04:30:00Z" in out
    assert f"last slot     2026-11-27T04:30:00Z  FAILED ({failed})" in out
    assert "error: train: Dataproc batch failed" in out
    assert "churn-training-weekly" not in out


def test_a_failed_attempt_and_a_held_job_are_shown(run, applied, vertex):
    last_attempt(applied, DAILY, slot(27), 14, "HTTP 503")
    run("pause", "--env", "dev", SCHEDULE, "--reason", "bad input data")
    code, out, _ = run("status", "--env", "dev", SCHEDULE, "--now", NOW.isoformat())
    assert code == 0
    assert "last attempt  2026-11-27T04:30:00Z  FAILED (code 14: HTTP 503)" in out
    assert "PAUSED, held by operator (" in out and "bad input data)" in out
    assert "next fire" not in out  # paused: nothing fires


def test_status_reads_with_two_list_calls_plus_pages(run, applied, vertex):
    configured_since(applied, DAILY, NOW - timedelta(days=7))
    for minutes in range(150):
        add_run(vertex, NOW - timedelta(days=6, minutes=minutes), "SUCCEEDED")
    code, out, _ = run(
        "status", "--env", "dev", "--now", NOW.isoformat(), "--json", "--page-size", "100"
    )
    assert code == 0
    report = json.loads(out)
    assert report["calls"] == {"ListJobs": 1, "ListPipelineJobs": 2}  # 150 runs: 2 pages of 100
    assert applied.calls["ListJobs"] == 1 and applied.calls["GetJob"] == 0
    assert vertex.calls["ListPipelineJobs"] == 2 and vertex.calls["GetPipelineJob"] == 0
    [request] = [r for m, r in vertex.requests if m == "ListPipelineJobs"][:1]
    assert request.filter == 'labels.environment="dev" AND create_time>"2026-11-20T12:00:00Z"'
    daily = next(s for s in report["schedules"] if s["schedule"] == SCHEDULE)
    assert daily["runs_in_window"] == 150 and len(daily["recent_runs"]) == 5


def test_bad_arguments_are_refused_before_any_call(run, applied, vertex):
    code, _, err = run("status", "--env", "dev", "--window", "7x")
    assert code == 1 and "window '7x'" in err
    code, _, err = run("status", "--env", "dev", "nightly")
    assert code == 1 and "no job of environment 'dev' for: nightly" in err
    assert vertex.calls["ListPipelineJobs"] == 0
