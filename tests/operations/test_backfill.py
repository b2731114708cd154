"""backfill and run, end to end: schedule.py -> (fake IAM Credentials ID token) -> the real trigger
function over HTTP -> fake Vertex AI; apply and RunJob through the fake Cloud Scheduler."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import yaml

from fakes.gcs import gcs_emulator
from fakes.iam_credentials import fake_iam_credentials
from fakes.scheduler import running_scheduler
from fakes.vertex import fake_vertex
from scheduling.api import RetryPolicy
from scheduling.cli import main
from tests.trigger import trigger_harness as h

NAME = "nightly-scoring"
JOB = f"{h.PARENT}/jobs/{h.ENV}-{NAME}"
SCHEDULE = """\
pipeline: churn-scoring
cron: "30 2 * * *"
time_zone: Europe/Amsterdam
parameters:
  customers_path: customers/latest.csv
max_concurrent_runs: {limit}
"""
# 29 March 2026: clocks jump from 02:00 to 03:00 in Amsterdam; 02:30 fires at 03:30 CEST.
SPRING = ["20260327t013000z", "20260328t013000z", "20260329t013000z", "20260330t003000z"]


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Iterator[dict]:
    """GCS emulator (published templates, leases, apply lock), fake Vertex, the trigger, fake
    Cloud Scheduler and fake IAM Credentials, all for one module."""
    with (
        gcs_emulator(buckets=(h.BUCKET,)) as gcs_host,
        fake_vertex() as (vertex, vertex_host),
        running_scheduler() as (scheduler, scheduler_host),
        fake_iam_credentials() as (iam, iam_host),
    ):
        h.publish_templates(("v1",), latest="v1")
        log = tmp_path_factory.mktemp("ops") / "function.log"
        env = h.function_env(vertex_host, STORAGE_EMULATOR_HOST=gcs_host, LEASE_GRACE_SECONDS="0")
        with h.serve_function(env, log) as url:
            yield {
                "gcs": gcs_host, "vertex": vertex, "vertex_host": vertex_host, "url": url,
                "scheduler": scheduler, "scheduler_host": scheduler_host,
                "iam": iam, "iam_host": iam_host,
            }  # fmt: skip


@pytest.fixture
def ops(services, tmp_path, monkeypatch, capsys):
    """A schedules tree for environment `test` pointing at the served trigger, the fakes emptied;
    returns a function running schedule.py in-process -> (exit code, stdout, stderr)."""
    from google.cloud import storage

    for blob in (
        storage.Client(project=h.PROJECT).bucket(h.BUCKET).list_blobs(prefix="trigger-leases/")
    ):
        blob.delete()
    services["vertex"].reset()
    scheduler = services["scheduler"]
    with scheduler.lock:
        scheduler.jobs.clear()
        scheduler.calls.clear()
        scheduler.deliveries.clear()
    iam = services["iam"]
    iam.accounts.clear(), iam.granted.clear(), iam.calls.clear()
    iam.grant(h.INVOKER)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", services["gcs"])
    monkeypatch.setenv("SCHEDULER_EMULATOR_HOST", services["scheduler_host"])
    monkeypatch.setenv("AIPLATFORM_EMULATOR_HOST", services["vertex_host"])
    monkeypatch.setenv("IAM_CREDENTIALS_EMULATOR_HOST", services["iam_host"])
    tree = tmp_path / "schedules"
    (tree / "environments").mkdir(parents=True)
    (tree / "environments" / f"{h.ENV}.yaml").write_text(
        yaml.safe_dump({**h.ENVIRONMENT, "trigger_url": services["url"]})
    )

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(
            [*args, "--schedules", str(tree), "--templates", str(h.REPO / "build" / "vertex")],
            retry=RetryPolicy(sleep=lambda _s: None),
        )
        out, err = capsys.readouterr()
        return code, out, err

    def apply(limit: int = 100, path: str = "customers/latest.csv") -> None:
        text = SCHEDULE.format(limit=limit).replace("customers/latest.csv", path)
        (tree / f"{NAME}.yaml").write_text(text)
        code, out, err = run("apply", "--env", h.ENV, "--auto-approve")
        assert code == 0, out + err

    run.apply = apply  # type: ignore[attr-defined]
    run.tree = tree  # type: ignore[attr-defined]
    return run


def stamps(vertex) -> list[str]:
    return sorted(job.labels["fire-time"] for job in vertex.created())


def backfill(ops, *extra: str) -> tuple[int, dict, str]:
    code, out, err = ops("backfill", NAME, "--env", h.ENV, "--from", "2026-03-27",
                         "--to", "2026-03-31", "--json", *extra)  # fmt: skip
    return code, json.loads(out) if out.strip() else {}, err


def test_backfill_over_the_spring_dst_change_submits_each_slot_as_its_fire(ops, services):
    ops.apply()
    vertex = services["vertex"]

    code, report, err = backfill(ops)

    assert code == 0, err
    assert [s["fire_time"] for s in report["slots"]] == [
        "2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z",
        "2026-03-30T00:30:00Z",
    ]  # fmt: skip
    assert report["slots"][2]["fire_time_local"] == "2026-03-29T03:30:00+02:00"
    assert [s["outcome"] for s in report["slots"]] == ["created"] * 4
    assert stamps(vertex) == SPRING
    for job in vertex.created():
        # The ids and labels of a scheduled fire, not of a manual run.
        assert job.name.endswith(f"/pipelineJobs/{h.ENV}-{NAME}-{job.labels['fire-time']}")
        assert job.labels["trigger"] == "scheduler"
        slot = job.labels["fire-time"]  # 20260329t013000z -> 2026-03-29T01:30:00Z
        fired = f"{slot[:4]}-{slot[4:6]}-{slot[6:8]}T{slot[9:11]}:{slot[11:13]}:{slot[13:15]}Z"
        assert dict(job.runtime_config.parameter_values) == {
            "customers_path": "customers/latest.csv",
            "fire_time": fired,  # the slot's own time: a backfilled run is dated by its slot
        }
    assert services["iam"].issued == [(h.INVOKER, services["url"])]  # one token, reused


def test_a_second_backfill_creates_nothing(ops, services):
    ops.apply()
    vertex = services["vertex"]
    backfill(ops)
    created = vertex.calls["CreatePipelineJob"]

    code, report, _ = backfill(ops, "--max-parallel", "3")

    assert code == 0
    assert [s["outcome"] for s in report["slots"]] == ["skipped"] * 4
    assert {s["detail"] for s in report["slots"]} == {"already ran"}
    assert vertex.calls["CreatePipelineJob"] == created and len(vertex.created()) == 4


def test_dry_run_lists_the_slots_and_which_already_ran(ops, services):
    ops.apply()
    vertex = services["vertex"]
    code, _out, err = ops("backfill", NAME, "--env", h.ENV, "--from", "2026-03-28T00:00:00Z",
                         "--to", "2026-03-29T12:00:00Z")  # fmt: skip
    assert code == 0, err
    assert stamps(vertex) == SPRING[1:3]

    code, report, _ = backfill(ops, "--dry-run")

    assert code == 0
    assert [(s["fire_time"], s["outcome"]) for s in report["slots"]] == [
        ("2026-03-27T01:30:00Z", "would submit"),
        ("2026-03-28T01:30:00Z", "ran"),
        ("2026-03-29T01:30:00Z", "ran"),
        ("2026-03-30T00:30:00Z", "would submit"),
    ]
    assert report["slots"][0]["job_id"] == f"{h.ENV}-{NAME}-{SPRING[0]}"
    assert len(vertex.created()) == 2  # a dry run submits nothing
    assert services["iam"].calls["GenerateIdToken"] == 1  # only the real backfill's


def test_backfill_waits_for_max_concurrent_runs(ops, services):
    ops.apply(limit=1)
    vertex = services["vertex"]
    stop = threading.Event()

    def finish_runs() -> None:  # each run "finishes" a moment after it was created
        while not stop.is_set():
            for job in vertex.created():
                if job.state.name == "PIPELINE_STATE_PENDING":
                    time.sleep(0.3)
                    vertex.set_state(job.name, "PIPELINE_STATE_SUCCEEDED")
            time.sleep(0.05)

    worker = threading.Thread(target=finish_runs, daemon=True)
    worker.start()
    try:
        code, report, err = backfill(ops, "--max-parallel", "2", "--poll", "0.2",
                                     "--max-wait", "60")  # fmt: skip
    finally:
        stop.set()
        worker.join()
    assert code == 0, err
    assert [s["outcome"] for s in report["slots"]] == ["created"] * 4
    assert stamps(vertex) == SPRING


def test_without_the_token_creator_role_nothing_is_submitted(ops, services):
    ops.apply()
    services["iam"].granted.clear()
    code, _, err = ops("backfill", NAME, "--env", h.ENV, "--from", "2026-03-27",
                       "--to", "2026-03-31")  # fmt: skip
    assert code == 1
    assert "roles/iam.serviceAccountOpenIdTokenCreator" in err
    assert services["vertex"].created() == []


def test_bad_ranges_are_refused(ops, services):
    ops.apply()
    code, _, err = ops(
        "backfill", NAME, "--env", h.ENV, "--from", "2026-03-31", "--to", "2026-03-27"
    )
    assert code == 1 and "must be after --from" in err
    code, _, err = ops(
        "backfill", NAME, "--env", h.ENV, "--from", "yesterday", "--to", "2026-03-27"
    )
    assert code == 1 and "--from 'yesterday' is not an ISO 8601" in err
    code, _, err = ops(
        "backfill", NAME, "--env", h.ENV, "--from", "2024-01-01", "--to", "2026-03-27"
    )
    assert code == 1 and "split the range" in err
    assert services["iam"].calls["GenerateIdToken"] == 0


def test_run_goes_through_run_job(ops, services):
    ops.apply()
    vertex, scheduler = services["vertex"], services["scheduler"]

    code, out, err = ops("run", NAME, "--env", h.ENV, "--wait", "10")

    assert code == 0, err
    assert scheduler.calls["RunJob"] == 1
    [job] = vertex.created()
    job_id = job.name.rsplit("/", 1)[-1]
    assert job.labels["trigger"] == "scheduler"  # the scheduler's identity and headers
    assert f"Run {job_id} (" in out
    assert f"pipelines/runs/{job_id}?project={h.PROJECT}" in out
    assert services["iam"].calls["GenerateIdToken"] == 0  # RunJob needs no token of ours


def test_run_with_parameters_is_a_manual_call_checked_like_a_schedule_file(ops, services):
    ops.apply()
    vertex = services["vertex"]

    bad = ("data_uri=gs://elsewhere", "customers_path=../x.csv", "modle=churn@v3")
    code, _, err = ops("run", NAME, "--env", h.ENV, *(a for b in bad for a in ("--param", b)))
    assert code == 1
    assert "data_uri" in err and "belongs to the deployment" in err
    assert "customers_path" in err and "'..'" in err
    assert "did you mean 'model'" in err
    assert vertex.created() == [] and services["iam"].calls["GenerateIdToken"] == 0

    code, out, err = ops("run", NAME, "--env", h.ENV,
                         "--param", "customers_path=customers/2026-03-01.csv")  # fmt: skip
    assert code == 0, err
    [job] = vertex.created()
    assert job.labels["trigger"] == "manual"
    assert job.runtime_config.parameter_values["customers_path"] == "customers/2026-03-01.csv"
    assert f"Manual run {job.name.rsplit('/', 1)[-1]}" in out
    assert services["scheduler"].calls["RunJob"] == 0


def test_logical_dates_give_each_backfilled_slot_its_own_data(ops, services):
    ops.apply(path="customers/{fire_date}/part-{fire_stamp}.csv")

    code, _report, err = backfill(ops)

    assert code == 0, err
    paths = sorted(
        job.runtime_config.parameter_values["customers_path"]
        for job in services["vertex"].created()
    )
    # {fire_date} is the slot's date in Europe/Amsterdam, also across the DST change.
    assert paths == [
        f"customers/2026-03-{day}/part-{stamp}.csv"
        for day, stamp in zip(("27", "28", "29", "30"), SPRING, strict=True)
    ]


def test_the_trigger_refuses_bad_placeholders_zones_and_a_fire_time_parameter(services):
    import requests

    def post(**fields) -> requests.Response:
        body = {"pipeline": "churn-scoring", "schedule": NAME, "time_zone": "Europe/Amsterdam",
                "parameters": {"customers_path": "c.csv"}, **fields}  # fmt: skip
        headers = h.scheduler_headers(f"{h.ENV}-{NAME}", "2026-03-29T01:30:00Z")
        return requests.post(services["url"], data=json.dumps(body), headers=headers, timeout=30)

    services["vertex"].reset()
    answer = post(parameters={"customers_path": "c/{fire_day}.csv"})
    assert answer.status_code == 400 and "'{fire_day}'" in answer.json()["error"]
    answer = post(time_zone="Mars/Olympus_Mons")
    assert answer.status_code == 400 and "field 'time_zone'" in answer.json()["error"]
    answer = post(parameters={"customers_path": "c.csv", "fire_time": "2020-01-01T00:00:00Z"})
    assert answer.status_code == 400 and "set by the trigger" in answer.json()["error"]
    assert services["vertex"].created() == []


def test_status_answers_did_last_nights_run_happen_and_why_not(ops, services):
    """A fire the trigger refused (unpublished template) shows as the last attempt's error and
    as a fire with no run; the night before, which ran, does not."""
    from datetime import UTC, datetime

    from fakes.scheduler import _ts

    ops.apply()
    scheduler = services["scheduler"]
    code, _, err = ops(
        "backfill", NAME, "--env", h.ENV, "--from", "2026-03-28", "--to", "2026-03-29"
    )
    assert code == 0, err
    ops.tree.joinpath(f"{NAME}.yaml").write_text(
        SCHEDULE.format(limit=100) + "template: v9\n"  # never published
    )
    assert ops("apply", "--env", h.ENV, "--auto-approve")[0] == 0
    with scheduler.lock:
        stored = scheduler.jobs[JOB]
        stored.user_update_time.CopyFrom(_ts(datetime(2026, 3, 27, tzinfo=UTC)))
    delivery = scheduler.fire(JOB, schedule_time=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert delivery.status == 404

    code, out, err = ops("status", "--env", h.ENV, "--now", "2026-03-29T09:00:00+00:00",
                         "--window", "2d")  # fmt: skip

    assert code == 0, err
    assert "FAILED (code 5: HTTP 404:" in out
    assert "! fires with no run: 2026-03-29T01:30:00Z" in out
    assert "last slot     2026-03-29T01:30:00Z  NO RUN" in out
    assert "20260328t013000z" in out  # the run of the night before, listed with its link


def test_backfill_over_the_autumn_dst_change_fires_the_repeated_hour_once(ops, services):
    ops.apply()
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, fires once.
    code, out, err = ops("backfill", NAME, "--env", h.ENV, "--from", "2026-10-24",
                         "--to", "2026-10-27", "--json")  # fmt: skip
    assert code == 0, err
    slots = json.loads(out)["slots"]
    assert [(s["fire_time"], s["fire_time_local"]) for s in slots] == [
        ("2026-10-24T00:30:00Z", "2026-10-24T02:30:00+02:00"),
        ("2026-10-25T00:30:00Z", "2026-10-25T02:30:00+02:00"),
        ("2026-10-26T01:30:00Z", "2026-10-26T02:30:00+01:00"),
    ]
    assert stamps(services["vertex"]) == [
        "20261024t003000z", "20261025t003000z", "20261026t013000z",
    ]  # fmt: skip
