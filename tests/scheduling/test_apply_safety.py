"""Issue 10 B/C apply safety: partial writes reported exactly, harmless races, mass deletes."""

from __future__ import annotations

import grpc
import pytest
from google.cloud.scheduler_v1 import types

from scheduling.actions import CREATE, DELETE, KINDS, PAUSE, RESUME, UPDATE
from scheduling.api import make_client
from scheduling.apply import apply_plan
from scheduling.cli import build_parser, main
from scheduling.diff import MAX_SAFE_DELETE_SHARE, compute_plan
from scheduling.jobs import build_desired
from scheduling.render import plan_json, plan_text
from scheduling.validate import validate_tree

PARENT = "projects/acme-churn-dev/locations/europe-west4"
WEEKLY = "dev-churn-training-weekly"
DAILY = "dev-churn-scoring-daily"


@pytest.fixture
def run(tree, templates_dir, fake, no_sleep, capsys):
    """Run schedule.py in-process; returns (exit code, stdout, stderr)."""

    def run_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--templates", str(templates_dir)], retry=no_sleep)
        out, err = capsys.readouterr()
        return code, out, err

    return run_cli


def test_each_kind_carries_its_own_order_sign_and_past_tense():
    assert [k.name for k in KINDS] == ["create", "update", "pause", "resume", "delete"]
    assert [k.order for k in KINDS] == sorted(k.order for k in KINDS)
    assert len({k.sign for k in KINDS}) == len(KINDS)
    assert [k.past for k in (CREATE, UPDATE, PAUSE, RESUME, DELETE)] == [
        "created",
        "updated",
        "paused",
        "resumed",
        "deleted",
    ]


def test_a_new_disabled_job_whose_pause_fails_is_reported_and_repaired(run, fake, tree):
    tree.edit("churn-scoring-daily.yaml", "enabled: true", "enabled: false")
    fake.inject_fault("PauseJob", grpc.StatusCode.PERMISSION_DENIED, times=1, target=DAILY)
    code, out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1
    # exactly what landed (two creates) and what is wrong (the job is live)
    assert "Apply incomplete: 1 action(s), 2 write(s), 1 failed." in out
    assert f"PARTLY create {DAILY}: created, but pausing failed (PermissionDenied" in out
    assert "the job is ENABLED and will fire although its file says enabled: false" in err
    assert fake.calls["CreateJob"] == 2 and fake.calls["PauseJob"] == 1
    assert fake.job(DAILY).state == types.Job.State.ENABLED
    fake.reset_calls()
    code, out, _ = run("apply", "--env", "dev", "--auto-approve")
    assert code == 0
    assert f"‖ pause {DAILY}" in out
    assert fake.writes() == 1 and fake.calls["PauseJob"] == 1
    assert fake.job(DAILY).state == types.Job.State.PAUSED


@pytest.fixture
def dev_plan(tree, templates_dir, fake):
    """(environment, desired jobs) of the shipped dev schedules, with the fake empty."""
    result = validate_tree(tree.root, templates_dir, only_env="dev")
    assert result.ok, result.problems
    env = result.environments["dev"]
    return env, build_desired(result.schedules, env, result.parameters)


def test_a_job_created_meanwhile_exactly_as_wanted_is_not_an_error(dev_plan, fake, no_sleep):
    env, desired = dev_plan
    plan = compute_plan(desired, [], env)  # planned while nothing existed
    client = make_client()
    # ... then a concurrent apply of the same files created one of the jobs
    client.create_job(parent=PARENT, job=next(d.job for d in desired if d.job_id == WEEKLY))
    lines: list[str] = []
    outcome = apply_plan(client, plan, no_sleep, report=lines.append)
    assert outcome.ok, outcome.failed
    assert outcome.writes == 1  # only the other job was written
    assert f"created {WEEKLY} (already so: done by a concurrent apply)" in lines
    assert f"created {DAILY}" in lines


def test_a_job_created_meanwhile_with_other_content_is_a_failure(dev_plan, fake, no_sleep):
    env, desired = dev_plan
    plan = compute_plan(desired, [], env)
    other = types.Job.deserialize(
        types.Job.serialize(next(d.job for d in desired if d.job_id == WEEKLY))
    )
    other.schedule = "0 9 * * *"
    make_client().create_job(parent=PARENT, job=other)
    outcome = apply_plan(make_client(), plan, no_sleep, report=lambda _line: None)
    assert [(a.job_id, m.split(":")[0]) for a, m in outcome.failed] == [(WEEKLY, "AlreadyExists")]
    assert "differs from the schedule file" in outcome.failed[0][1]
    assert fake.job(WEEKLY).schedule == "0 9 * * *"  # not overwritten by a stale plan


def test_a_job_deleted_meanwhile_is_not_an_error(dev_plan, fake, no_sleep):
    env, desired = dev_plan
    client = make_client()
    for want in desired:
        client.create_job(parent=PARENT, job=want.job)
    listed = list(client.list_jobs(parent=PARENT))
    plan = compute_plan(desired[:1], listed, env)  # one schedule file removed
    assert [(a.kind, a.job_id) for a in plan.actions] == [(DELETE, WEEKLY)]
    client.delete_job(name=f"{PARENT}/jobs/{WEEKLY}")  # a concurrent apply got there first
    lines: list[str] = []
    outcome = apply_plan(client, plan, no_sleep, report=lines.append)
    assert outcome.ok and outcome.writes == 0
    assert lines == [f"deleted {WEEKLY} (already so: done by a concurrent apply)"]


def test_a_stop_request_leaves_the_rest_unapplied_and_says_so(dev_plan, fake, no_sleep):
    env, desired = dev_plan
    plan = compute_plan(desired, [], env)
    reasons = iter([None, "lost the apply lock"])
    outcome = apply_plan(
        make_client(), plan, no_sleep, report=lambda _l: None, before_each=lambda: next(reasons)
    )
    assert len(outcome.done) == 1 and outcome.writes == 1
    assert outcome.stopped == "lost the apply lock"
    assert [m for _a, m in outcome.failed] == ["not applied: lost the apply lock"]
    assert len(fake.jobs) == 1


def _owned_jobs(count: int) -> list[types.Job]:
    client = make_client()
    for i in range(count):
        client.create_job(
            parent=PARENT,
            job=types.Job(
                name=f"{PARENT}/jobs/dev-old-{i}",
                schedule="0 1 * * *",
                http_target=types.HttpTarget(
                    uri="https://t.test", headers={"X-Managed-By": "churn-schedules/dev"}
                ),
            ),
        )
    return list(client.list_jobs(parent=PARENT))


@pytest.mark.parametrize(
    ("owned", "kept", "refused"),
    [
        (1, 0, True),  # the last job: all of them
        (2, 1, False),  # one job, even though it is half
        (2, 0, True),
        (10, 7, False),  # 30%: not more than the safe share
        (10, 6, True),  # 40%
    ],
)
def test_which_plans_are_mass_deletes(dev_plan, fake, owned, kept, refused):
    env, _desired = dev_plan
    listed = _owned_jobs(owned)
    keep = [j for j in listed if int(j.name.rsplit("-", 1)[1]) < kept]
    # keep the first `kept` jobs by pretending their files still exist
    plan = compute_plan([], listed, env)
    plan.actions = [
        a for a in plan.actions if a.job_id not in {j.name.split("/")[-1] for j in keep}
    ]
    assert plan.owned == owned
    assert (plan.mass_delete() is not None) == refused
    if refused:
        assert "! mass delete: this plan deletes" in plan_text(plan)
        assert plan_json(plan)["mass_delete"].startswith("this plan deletes")


def test_apply_refuses_a_mass_delete_without_the_flag(run, fake, tree):
    _owned_jobs(3)
    code, _out, _err = run("apply", "--env", "dev", "--auto-approve", "--allow-mass-delete")
    assert code == 0  # the two shipped schedules created, the three old jobs deleted
    fake.reset_calls()
    tree.remove("churn-training-weekly.yaml")
    tree.remove("churn-scoring-daily.yaml")
    code, out, err = run("apply", "--env", "dev", "--auto-approve")
    assert code == 1
    assert "! mass delete: this plan deletes 2 of the 2 job(s)" in out
    assert "Nothing applied: this plan deletes 2 of the 2 job(s) environment 'dev' owns" in err
    assert "--allow-mass-delete" in err
    assert fake.writes() == 0


def test_help_states_the_safe_share():
    text = build_parser()._subparsers._group_actions[0].choices["apply"].format_help()
    assert "--allow-mass-delete" in text
    assert f"{MAX_SAFE_DELETE_SHARE:.0%}" in text
