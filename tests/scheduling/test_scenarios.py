"""schedule.py end to end: the real client over gRPC to the fake Cloud Scheduler."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import grpc
import pytest
from google.cloud.scheduler_v1 import types
from google.protobuf import field_mask_pb2

from scheduling.api import make_client
from scheduling.cli import main
from tests.scheduling.conftest import REPO

PARENT = "projects/acme-churn-dev/locations/europe-west4"
WEEKLY = "dev-churn-training-weekly"
DAILY = "dev-churn-scoring-daily"


@pytest.fixture
def run(tree, templates_dir, fake, no_sleep, capsys):
    """Run schedule.py with the tree and templates; returns (exit code, stdout, stderr)."""

    def run_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--templates", str(templates_dir)], retry=no_sleep)
        out, err = capsys.readouterr()
        return code, out, err

    return run_cli


def apply_clean(run, fake) -> None:
    code, _out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0, err
    fake.reset_calls()


def test_fresh_create(run, fake):
    code, out, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 2
    assert f"+ create {WEEKLY}" in out
    assert "Plan: 2 to create, 0 to update" in out
    assert fake.writes() == 0  # plan never writes
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert fake.calls["CreateJob"] == 2
    job = fake.job(WEEKLY)
    assert job.state == types.Job.State.ENABLED
    assert job.http_target.headers["X-Managed-By"] == "churn-schedules/dev"
    assert json.loads(job.http_target.body)["schedule"] == "churn-training-weekly"
    assert "Apply complete: 2 action(s), 2 write(s), 0 failed." in out


def test_second_apply_is_a_no_op(run, fake):
    apply_clean(run, fake)
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert fake.writes() == 0
    assert fake.calls["ListJobs"] == 1
    assert fake.calls["GetJob"] == 0
    assert "No changes: 2 job(s) match" in out
    code, _, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 0


def test_one_field_changed_is_one_update_with_an_exact_mask(run, fake, tree):
    apply_clean(run, fake)
    tree.edit("churn-training-weekly.yaml", 'cron: "0 3 * * 1"', 'cron: "0 4 * * 1"')
    code, out, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 2
    assert f"~ update {WEEKLY}" in out
    assert '    schedule: "0 3 * * 1" → "0 4 * * 1"' in out
    assert "    update_mask: schedule" in out
    before = fake.job(WEEKLY)
    run("apply", "--env", "dev", "--auto-approve")
    assert fake.writes() == 1
    assert fake.calls["UpdateJob"] == 1
    after = fake.job(WEEKLY)
    assert after.schedule == "0 4 * * 1"
    assert after.http_target.body == before.http_target.body


def test_parameter_change_shows_old_and_new_value(run, fake, tree):
    apply_clean(run, fake)
    tree.edit("churn-training-weekly.yaml", "gate_threshold: 0.60", "gate_threshold: 0.7")
    code, out, _ = run("plan", "--env", "dev", "--json", "--detailed-exitcode")
    assert code == 2
    plan = json.loads(out)
    assert plan["summary"] == {
        "create": 0,
        "update": 1,
        "pause": 0,
        "resume": 0,
        "delete": 0,
        "unchanged": 1,
    }
    assert plan["actions"] == [
        {
            "action": "update",
            "job": WEEKLY,
            "schedule": "churn-training-weekly",
            "changes": [
                {"field": "http_target.body.parameters.gate_threshold", "old": 0.6, "new": 0.7}
            ],
            "update_mask": ["http_target"],
        }
    ]


def test_paused_by_yaml_then_resumed(run, fake, tree):
    apply_clean(run, fake)
    tree.edit("churn-scoring-daily.yaml", "enabled: true", "enabled: false")
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert f"‖ pause {DAILY}" in out
    assert fake.calls["PauseJob"] == 1 and fake.writes() == 1
    assert fake.job(DAILY).state == types.Job.State.PAUSED
    fake.reset_calls()
    tree.edit("churn-scoring-daily.yaml", "enabled: false", "enabled: true")
    run("apply", "--env", "dev", "--auto-approve")
    assert fake.calls["ResumeJob"] == 1 and fake.writes() == 1
    assert fake.job(DAILY).state == types.Job.State.ENABLED


def test_created_disabled_is_created_then_paused(run, fake, tree):
    tree.edit("churn-scoring-daily.yaml", "enabled: true", "enabled: false")
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert "then paused (enabled: false)" in out
    assert fake.job(DAILY).state == types.Job.State.PAUSED
    assert fake.job(WEEKLY).state == types.Job.State.ENABLED


def test_drift_made_in_the_console_is_shown_and_restored(run, fake):
    apply_clean(run, fake)
    client = make_client()
    client.update_job(
        job=types.Job(name=f"{PARENT}/jobs/{WEEKLY}", description="edited by hand"),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]),
    )
    client.pause_job(name=f"{PARENT}/jobs/{WEEKLY}")
    fake.reset_calls()
    code, out, _ = run("plan", "--env", "dev", "--detailed-exitcode")
    assert code == 2
    assert (
        '    description: "edited by hand" → "Weekly retrain on the latest customer snapshot"'
        in out
    )
    assert f"> resume {WEEKLY}" in out
    run("apply", "--env", "dev", "--auto-approve")
    assert fake.calls["UpdateJob"] == 1 and fake.calls["ResumeJob"] == 1
    assert fake.job(WEEKLY).description == "Weekly retrain on the latest customer snapshot"
    assert fake.job(WEEKLY).state == types.Job.State.ENABLED


def test_removed_file_deletes_its_job(run, fake, tree):
    apply_clean(run, fake)
    tree.remove("churn-scoring-daily.yaml")
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert f"- delete {DAILY}" in out
    assert fake.calls["DeleteJob"] == 1 and fake.writes() == 1
    assert fake.job(DAILY) is None
    assert fake.job(WEEKLY) is not None


def test_unowned_jobs_with_similar_names_survive(run, fake, tree):
    client = make_client()
    lookalike = types.Job(
        name=f"{PARENT}/jobs/{WEEKLY}-copy",
        schedule="0 1 * * *",
        http_target=types.HttpTarget(uri="https://someone-else.test"),
    )
    other_env = types.Job(
        name=f"{PARENT}/jobs/dev-churn-old",
        schedule="0 1 * * *",
        http_target=types.HttpTarget(
            uri="https://someone-else.test", headers={"X-Managed-By": "churn-schedules/prod"}
        ),
    )
    client.create_job(parent=PARENT, job=lookalike)
    client.create_job(parent=PARENT, job=other_env)
    apply_clean(run, fake)
    tree.remove("churn-training-weekly.yaml")
    tree.remove("churn-scoring-daily.yaml")
    code, out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1  # every owned job would go: a mass delete
    assert "this plan deletes 2 of the 2 job(s) environment 'dev' owns" in err
    assert fake.writes() == 0
    code, out, _ = run("apply", "--env", "dev", "--auto-approve", "--allow-mass-delete")
    assert code == 0
    assert fake.calls["DeleteJob"] == 2
    assert fake.job(f"{WEEKLY}-copy").schedule == "0 1 * * *"
    assert fake.job("dev-churn-old") is not None
    assert f"left alone (prefix matches but not managed here): dev-churn-old, {WEEKLY}-copy" in out


def test_a_name_taken_by_an_unowned_job_is_a_conflict_and_nothing_is_applied(run, fake):
    make_client().create_job(
        parent=PARENT,
        job=types.Job(
            name=f"{PARENT}/jobs/{WEEKLY}",
            schedule="0 1 * * *",
            http_target=types.HttpTarget(uri="https://someone-else.test"),
        ),
    )
    fake.reset_calls()
    code, out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1
    assert f"! conflict: schedules/churn-training-weekly.yaml: job '{WEEKLY}' already exists" in out
    assert "Nothing applied" in err
    assert fake.writes() == 0
    assert fake.job(WEEKLY).schedule == "0 1 * * *"


def test_transient_errors_are_retried(run, fake):
    fake.inject_fault("CreateJob", grpc.StatusCode.UNAVAILABLE, times=2)
    fake.inject_fault("ListJobs", grpc.StatusCode.RESOURCE_EXHAUSTED, times=1)
    code, _, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert fake.calls["CreateJob"] == 4
    assert fake.calls["ListJobs"] == 2
    assert len(fake.jobs) == 2


def test_a_fault_mid_apply_is_reported_and_the_next_apply_converges(run, fake, tree):
    apply_clean(run, fake)
    tree.edit("churn-training-weekly.yaml", 'cron: "0 3 * * 1"', 'cron: "0 5 * * 1"')
    tree.edit("churn-scoring-daily.yaml", 'cron: "30 5 * * *"', 'cron: "45 5 * * *"')
    fake.inject_fault("UpdateJob", grpc.StatusCode.DEADLINE_EXCEEDED, times=99, target=DAILY)
    code, out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1
    assert f"FAILED update {DAILY}: DeadlineExceeded" in out
    assert f"updated {WEEKLY}" in out
    assert "Apply incomplete: 1 action(s), 1 write(s), 1 failed." in out
    assert "Run apply again" in err
    assert fake.job(WEEKLY).schedule == "0 5 * * 1"
    assert fake.job(DAILY).schedule == "30 5 * * *"
    fake.faults.clear()
    fake.reset_calls()
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert fake.writes() == 1
    assert fake.job(DAILY).schedule == "45 5 * * *"
    fake.reset_calls()
    run("apply", "--env", "dev", "--auto-approve")
    assert fake.writes() == 0


def test_invalid_files_contact_nothing(run, fake, tree):
    tree.edit("churn-training-weekly.yaml", 'cron: "0 3 * * 1"', 'cron: "0 3 * *"')
    code, _out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1
    assert "schedules/churn-training-weekly.yaml:6: cron '0 3 * *' has 4 field(s)" in err
    assert "nothing was contacted" in err
    assert sum(fake.calls.values()) == 0


def test_apply_needs_approval_when_not_interactive(run, fake, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    code, _, err = run("apply", "--env", "dev")
    assert code == 1
    assert "--auto-approve" in err
    assert fake.writes() == 0


def test_unreachable_api_is_a_clean_error(run, fake, monkeypatch):
    fake.inject_fault("ListJobs", grpc.StatusCode.PERMISSION_DENIED)
    code, _, err = run("plan", "--env", "dev")
    assert code == 1
    assert f"cannot list jobs in {PARENT}: PermissionDenied" in err


def test_paging_uses_one_list_call_per_page(run, fake):
    client = make_client()
    for i in range(5):
        client.create_job(
            parent=PARENT,
            job=types.Job(
                name=f"{PARENT}/jobs/other-{i}",
                schedule="0 1 * * *",
                http_target=types.HttpTarget(uri="https://x.test"),
            ),
        )
    fake.reset_calls()
    code, out, _ = run("plan", "--env", "dev", "--page-size", "2")
    assert code == 0
    assert fake.calls["ListJobs"] == 3
    assert "read 5 job(s) with 3 ListJobs call(s)" in out


def test_next_prints_fire_times_in_the_schedule_zone(run):
    code, out, _ = run(
        "next", "churn-training-weekly", "--count", "2", "--after", "2026-10-20T00:00Z"
    )
    assert code == 0
    assert out.splitlines() == [
        'churn-training-weekly  "0 3 * * 1"  Europe/Amsterdam',
        "    2026-10-26T03:00:00+01:00  Mon  = 2026-10-26T02:00:00Z",
        "    2026-11-02T03:00:00+01:00  Mon  = 2026-11-02T02:00:00Z",
    ]
    code, _, err = run("next", "nope")
    assert code == 1
    assert "no such schedule: nope" in err


def test_schedule_py_as_a_process_talks_to_the_emulator_host(tree, templates_dir, fake):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "schedule.py"),
            "plan",
            "--env",
            "dev",
            "--templates",
            str(templates_dir),
            "--detailed-exitcode",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"+ create {WEEKLY}" in proc.stdout
    assert fake.calls["ListJobs"] == 1
