"""Desired jobs and the plan against listed jobs: pure logic, no server."""

from __future__ import annotations

import json

import pytest
from google.cloud.scheduler_v1 import types

from scheduling.diff import compute_plan
from scheduling.jobs import build_desired, is_owned
from scheduling.render import plan_json, plan_text
from scheduling.validate import validate_tree


@pytest.fixture
def dev(tree, templates_dir):
    """(environment, desired jobs) for the shipped schedules in dev."""
    result = validate_tree(tree.root, templates_dir, only_env="dev")
    assert result.ok, result.problems
    env = result.environments["dev"]
    return env, build_desired(result.schedules, env, result.parameters)


def as_listed(job: types.Job) -> types.Job:
    """A desired job as ListJobs returns it: with server-set state and User-Agent header."""
    listed = types.Job.wrap(type(types.Job.pb(job))())
    types.Job.pb(listed).CopyFrom(types.Job.pb(job))
    listed.http_target.headers["User-Agent"] = "Google-Cloud-Scheduler"
    listed.state = job.state
    return listed


def test_the_desired_job(dev):
    env, desired = dev
    weekly = next(d for d in desired if d.schedule.name == "churn-training-weekly")
    job = weekly.job
    assert (
        job.name == "projects/acme-churn-dev/locations/europe-west4/jobs/dev-churn-training-weekly"
    )
    assert job.schedule == "0 3 * * 1"
    assert job.time_zone == "Europe/Amsterdam"
    assert job.http_target.uri == env.trigger_url
    assert job.http_target.http_method == types.HttpMethod.POST
    assert dict(job.http_target.headers) == {
        "Content-Type": "application/json",
        "X-Managed-By": "churn-schedules/dev",
    }
    assert job.http_target.oidc_token.service_account_email == env.invoker_service_account
    assert job.http_target.oidc_token.audience == env.trigger_url
    assert job.retry_config.retry_count == 3
    assert job.retry_config.min_backoff_duration.total_seconds() == 30
    assert job.retry_config.max_backoff_duration.total_seconds() == 600
    assert job.attempt_deadline.total_seconds() == 300
    body = job.http_target.body
    # deterministic: sorted keys, compact separators
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    assert json.loads(body) == {
        "pipeline": "churn-training",
        "template": "latest",
        "time_zone": "Europe/Amsterdam",
        "schedule": "churn-training-weekly",
        "max_concurrent_runs": 1,
        "parameters": {
            "raw_data_path": "raw/latest.csv",
            "model_name": "churn",
            "classifier": "rf",
            "gate_metric": "auc_pr",
            "gate_threshold": 0.6,
        },
    }


def test_nothing_listed_means_create_everything(dev):
    env, desired = dev
    plan = compute_plan(desired, [], env)
    assert [(a.kind.name, a.job_id) for a in plan.actions] == [
        ("create", "dev-churn-scoring-daily"),
        ("create", "dev-churn-training-weekly"),
    ]
    assert plan.counts()["create"] == 2


def test_identical_jobs_mean_no_changes_even_with_server_set_headers(dev):
    env, desired = dev
    plan = compute_plan(desired, [as_listed(d.job) for d in desired], env)
    assert plan.actions == []
    assert sorted(plan.unchanged) == ["dev-churn-scoring-daily", "dev-churn-training-weekly"]
    assert "No changes" in plan_text(plan)


def test_one_changed_parameter_is_shown_by_key_and_masks_http_target_only(dev):
    env, desired = dev
    listed = [as_listed(d.job) for d in desired]
    weekly = next(j for j in listed if j.name.endswith("weekly"))
    body = json.loads(weekly.http_target.body)
    body["parameters"]["gate_threshold"] = 0.5
    weekly.http_target.body = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    weekly.schedule = "0 4 * * 1"
    plan = compute_plan(desired, listed, env)
    assert len(plan.actions) == 1
    action = plan.actions[0]
    assert (action.kind.name, action.job_id) == ("update", "dev-churn-training-weekly")
    assert [(c.path, c.old, c.new) for c in action.changes] == [
        ("schedule", "0 4 * * 1", "0 3 * * 1"),
        ("http_target.body.parameters.gate_threshold", 0.5, 0.6),
    ]
    assert action.update_mask == ("http_target", "schedule")
    text = plan_text(plan)
    assert '    schedule: "0 4 * * 1" → "0 3 * * 1"' in text
    assert "    http_target.body.parameters.gate_threshold: 0.5 → 0.6" in text
    assert "Plan: 0 to create, 1 to update, 0 to pause, 0 to resume, 0 to delete" in text
    as_json = plan_json(plan)
    assert as_json["actions"][0]["update_mask"] == ["http_target", "schedule"]
    assert as_json["summary"]["update"] == 1


def test_retry_and_deadline_changes_mask_their_own_fields(dev):
    env, desired = dev
    listed = [as_listed(d.job) for d in desired]
    listed[0].retry_config.retry_count = 0
    listed[0].attempt_deadline = {"seconds": 180}
    plan = compute_plan(desired, listed, env)
    assert plan.actions[0].update_mask == ("attempt_deadline", "retry_config")
    assert [(c.path, c.old, c.new) for c in plan.actions[0].changes] == [
        ("retry_config.retry_count", 0, 2),
        ("attempt_deadline", "3m", "2m"),
    ]


def test_pause_and_resume_follow_enabled(dev):
    env, desired = dev
    listed = [as_listed(d.job) for d in desired]
    listed[0].state = types.Job.State.PAUSED  # paused by hand; the file says enabled
    plan = compute_plan(desired, listed, env)
    assert [(a.kind.name, a.job_id) for a in plan.actions] == [
        ("resume", "dev-churn-scoring-daily")
    ]


def test_owned_job_without_a_file_is_deleted_and_unowned_ones_are_left_alone(dev):
    env, desired = dev
    listed = [as_listed(d.job) for d in desired]
    gone = as_listed(desired[0].job)
    gone.name = gone.name.replace("dev-churn-scoring-daily", "dev-churn-old")
    stranger = as_listed(desired[0].job)
    stranger.name = stranger.name.replace("dev-churn-scoring-daily", "dev-churn-scoring-daily-2")
    del stranger.http_target.headers["X-Managed-By"]
    prod_job = as_listed(desired[0].job)
    prod_job.name = prod_job.name.replace("dev-churn-scoring-daily", "dev-churn-prodlike")
    prod_job.http_target.headers["X-Managed-By"] = "churn-schedules/prod"
    plan = compute_plan(desired, [*listed, gone, stranger, prod_job], env)
    assert [(a.kind.name, a.job_id) for a in plan.actions] == [("delete", "dev-churn-old")]
    assert plan.unowned == ["dev-churn-prodlike", "dev-churn-scoring-daily-2"]
    assert not is_owned(stranger, env)
    assert not is_owned(prod_job, env)


def test_a_job_id_taken_by_an_unowned_job_is_a_conflict_not_an_update(dev):
    env, desired = dev
    listed = [as_listed(d.job) for d in desired]
    del listed[1].http_target.headers["X-Managed-By"]
    listed[1].schedule = "* * * * *"
    plan = compute_plan(desired, listed, env)
    assert plan.actions == []
    assert len(plan.conflicts) == 1
    assert "dev-churn-training-weekly" in plan.conflicts[0]
    assert "not managed by these files" in plan.conflicts[0]
