"""pause / resume: the incident switch, reported job by job, honoured by plan and apply."""

from __future__ import annotations

import grpc
from google.cloud.scheduler_v1 import types

from scheduling.jobs import HOLD_HEADER
from tests.operations.conftest import DAILY, WEEKLY

PAUSED, ENABLED = types.Job.State.PAUSED, types.Job.State.ENABLED


def test_pause_all_holds_every_job_across_plan_and_apply(run, applied, tree):
    code, out, _ = run("pause", "--all", "--env", "dev", "--reason", "incident 42: bad data")
    assert code == 0, out
    assert f"ok     {WEEKLY}: paused and held" in out
    assert f"ok     {DAILY}: paused and held" in out
    for job_id in (WEEKLY, DAILY):
        job = applied.job(job_id)
        assert job.state == PAUSED
        assert job.http_target.headers[HOLD_HEADER].endswith(" incident 42: bad data")

    code, out, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 0, out  # nothing to do: the hold is not a difference to undo
    assert f"‖ held paused by operator: {WEEKLY}" in out
    assert "resume" not in out.split("held paused")[0]

    # A real change to a held job is applied and the job stays paused and held.
    tree.edit("churn-training-weekly.yaml", 'cron: "0 3 * * 1"', 'cron: "0 4 * * 1"')
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0, out
    job = applied.job(WEEKLY)
    assert (job.schedule, job.state) == ("0 4 * * 1", PAUSED)
    assert HOLD_HEADER in job.http_target.headers
    assert applied.calls["ResumeJob"] == 0

    code, out, _ = run("resume", "--all", "--env", "dev")
    assert code == 0, out
    assert f"ok     {WEEKLY}: resumed, hold removed" in out
    for job_id in (WEEKLY, DAILY):
        job = applied.job(job_id)
        assert job.state == ENABLED
        assert HOLD_HEADER not in job.http_target.headers
    code, out, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 0 and "No changes: 2 job(s) match" in out


def test_a_failed_pause_is_reported_and_the_others_still_paused(run, applied):
    applied.inject_fault("PauseJob", grpc.StatusCode.PERMISSION_DENIED, times=1, target=DAILY)
    code, out, _ = run("pause", "--all", "--env", "dev")
    assert code == 1
    assert f"FAILED {DAILY}: marked held but NOT paused: it will fire" in out
    assert "1 done, 1 failed." in out
    assert applied.job(WEEKLY).state == PAUSED
    assert applied.job(DAILY).state == ENABLED


def test_resume_keeps_a_job_paused_when_its_file_says_disabled(run, applied, tree):
    run("pause", "--all", "--env", "dev")
    tree.edit("churn-scoring-daily.yaml", "enabled: true", "enabled: false")
    code, out, _ = run("resume", "churn-scoring-daily", "--env", "dev")
    assert code == 0, out
    assert "stays paused (its file says enabled: false)" in out
    job = applied.job(DAILY)
    assert job.state == PAUSED and HOLD_HEADER not in job.http_target.headers
    assert applied.job(WEEKLY).state == PAUSED  # not named: still held


def test_selection_errors(run, applied):
    assert run("pause", "--env", "dev")[0] == 1
    code, _, err = run("pause", "nope", "--env", "dev")
    assert code == 1 and "no job of environment 'dev' for: nope" in err
    assert applied.writes() == 0
