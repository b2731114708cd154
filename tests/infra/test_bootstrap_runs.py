"""First run creates everything, a second run changes nothing, a dry run runs nothing.

The first and second runs of dev are made once (tests/infra/conftest.py `runs`) and read here.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from infra.desired import APIS
from infra.envfile import load
from infra.trigger_config import trigger_settings
from tests.infra.conftest import ENVIRONMENTS, REPO, dry_run_lines, is_look, program


def test_first_run_creates_everything(runs):
    first = runs.first()
    code, out, err, state = first.code, first.out, first.err, first.state
    assert code == 0, err
    project = state["projects"]["acme-churn-dev"]
    assert set(APIS) <= set(project["services"])
    assert {"dataprocrm.googleapis.com", "compute.googleapis.com"} <= set(project["services"])
    assert sorted(project["accounts"]) == [
        "churn-pipelines@acme-churn-dev.iam.gserviceaccount.com",
        "churn-scheduler@acme-churn-dev.iam.gserviceaccount.com",
        "churn-trigger@acme-churn-dev.iam.gserviceaccount.com",
    ]
    buckets = state["buckets"]
    assert sorted(buckets) == [
        "acme-churn-dev-data",
        "acme-churn-dev-models",
        "acme-churn-dev-pipelines",
        "acme-churn-dev-results",
        "acme-churn-dev-templates",
    ]
    for bucket in buckets.values():
        assert bucket["location"] == "EUROPE-WEST4"
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"
    subnet = project["subnets"]["europe-west4/churn-dataproc"]
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["network"].endswith("/global/networks/churn")
    rule = project["firewalls"]["churn-dataproc-allow-internal-ingress"]
    assert rule["direction"] == "INGRESS"
    assert rule["allowed"] == [{"IPProtocol": "all"}]
    assert rule["sourceRanges"] == rule["destinationRanges"] == [subnet["ipCidrRange"]]
    assert rule["network"] == subnet["network"]
    assert project["repositories"]["europe-west4/churn"]["format"] == "DOCKER"
    # One line per step, then what is left: the trigger is not deployed yet.
    assert "created  service account churn-pipelines@" in out
    assert "waiting  roles on trigger service churn-trigger" in out
    assert "waiting  trigger function churn-trigger settings: not deployed yet" in out
    assert "Left to do by hand:" in out
    assert "gcloud functions deploy churn-trigger --gen2" in out
    assert "PIPELINE_ROOT=gs://acme-churn-dev-pipelines/runs" in out
    assert "SCHEDULER_INVOKER=churn-scheduler@acme-churn-dev.iam.gserviceaccount.com" in out


def test_second_run_changes_nothing(runs):
    assert runs.first().code == 0
    before = runs.first().state
    second = runs.second()
    code, out = second.code, second.out
    assert code == 0
    assert second.log, "the second run must still look"
    assert second.changes() == []
    assert second.state == before
    assert "0 change(s)." in out
    steps = out.split("Left to do by hand:")[0].splitlines()[1:-1]
    assert len(steps) > 15
    assert {line.split()[0] for line in steps} <= {"ok", "waiting"}, steps


def test_trigger_deployed_later_gets_its_invoker_on_the_next_run(set_up):
    cloud = set_up
    dep = load(ENVIRONMENTS, "dev").deployment
    cloud.deploy_trigger(
        dep.project, dep.region, trigger_settings(dep), dep.service_accounts["trigger"]
    )
    code, out, _ = cloud.bootstrap("--env", "dev")
    assert code == 0
    assert cloud.changes() == [
        [
            "run",
            "services",
            "add-iam-policy-binding",
            "churn-trigger",
            "--region",
            "europe-west4",
            "--project",
            "acme-churn-dev",
            "--member=serviceAccount:churn-scheduler@acme-churn-dev.iam.gserviceaccount.com",
            "--role=roles/run.invoker",
        ]
    ]
    assert "gcloud functions deploy" not in out


def test_dry_run_runs_nothing_and_prints_every_command_in_order(cloud, runs):
    lines = dry_run_lines(cloud)
    assert cloud.state["buckets"] == {}
    printed = [line.split("  # ")[0] for line in lines if line.startswith(("gcloud ", "bq "))]
    # Every command a real run on the same fresh projects executes (looks and changes) was
    # printed, in the same order.
    assert runs.first().code == 0
    ran = [_text(entry) for entry in runs.first().log]
    assert len(ran) > 40
    position = 0
    for command in ran:
        found = next(
            (i for i in range(position, len(printed)) if _covers(printed[i], command)), None
        )
        assert found is not None, f"not printed (in order): {command}"
        position = found + 1


def test_verbose_prints_each_command_as_it_runs(cloud):
    code, out, _ = cloud.bootstrap("--env", "dev", "--verbose")
    assert code == 0
    shown = [line.strip()[2:] for line in out.splitlines() if line.strip().startswith("$ ")]
    assert shown == [_text(entry) for entry in cloud.log()]


def test_the_script_runs_from_any_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "bootstrap.py"), "--env", "prod", "--dry-run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "gcloud storage buckets create gs://acme-churn-prod-models" in result.stdout
    assert "none was run" in result.stdout


def _text(entry: dict) -> str:
    return shlex.join([program(entry), *entry["argv"]])


def _covers(printed: str, ran: str) -> bool:
    """Equal; or the dry run's `services enable` of every API covers the run's missing ones; or
    equal but for the dry run's `--flag=<what>` placeholders (a file, an etag known only then)."""
    if printed == ran:
        return True
    enable = "gcloud services enable "
    if printed.startswith(enable) and ran.startswith(enable):
        return set(ran.split()) <= set(printed.split())
    left, right = shlex.split(printed), shlex.split(ran)
    return len(left) == len(right) and all(
        a == b or ("=<" in a and b.startswith(a.split("=<", 1)[0] + "="))
        for a, b in zip(left, right, strict=True)
    )


def test_bindings_for_just_created_accounts_are_retried_until_iam_sees_them(cloud, monkeypatch):
    monkeypatch.setattr("infra.gcloud.RETRY_DELAYS", (0, 0, 0))
    monkeypatch.setenv("FAKE_GCLOUD_IAM_DELAY", "2")
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 0, err
    failed = [
        e["argv"] for e in cloud.log() if e["exit"] != 0 and not is_look(e["argv"], program(e))
    ]
    assert failed and all("add-iam-policy-binding" in argv for argv in failed)
    policy = cloud.state["projects"]["acme-churn-dev"]["policy"]
    assert any(b["role"] == "roles/dataproc.worker" for b in policy["bindings"])


def test_a_binding_iam_never_accepts_stops_the_run(cloud, monkeypatch):
    monkeypatch.setattr("infra.gcloud.RETRY_DELAYS", (0, 0))
    monkeypatch.setenv("FAKE_GCLOUD_IAM_DELAY", "5")
    code, _, err = cloud.bootstrap("--env", "dev")
    assert code == 1
    assert "add-iam-policy-binding acme-churn-dev" in err and "does not exist" in err
