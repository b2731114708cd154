"""The deployed trigger function is looked at: variables and identity as the environment says.

The expected variables are the ones the printed deploy command sets (test_todo.py checks those
against trigger/README.md and the trigger's own Settings); here a function deployed otherwise
must be reported, with the deploy command, and never changed.
"""

from __future__ import annotations

from infra.envfile import load
from infra.trigger_config import trigger_settings
from tests.infra.conftest import ENVIRONMENTS

DEP = load(ENVIRONMENTS, "dev").deployment
TRIGGER = DEP.service_accounts["trigger"]
DESCRIBE = [
    "functions",
    "describe",
    "churn-trigger",
    "--region",
    DEP.region,
    "--project",
    DEP.project,
    "--format=json",
]


def _second_run(
    cloud,
    runs,
    env: dict[str, str],
    account: str = TRIGGER,
    environments=ENVIRONMENTS,
    **deployed,
) -> tuple[int, str]:
    """Deploy the function after the first run (made once: conftest `runs`), then run again."""
    assert runs.first("dev", environments).code == 0
    cloud.start_from(runs.first("dev", environments))
    cloud.deploy_trigger(DEP.project, DEP.region, env, account, **deployed)
    code, out, _ = cloud.bootstrap("--env", "dev", environments=environments)
    return code, out


OLD_URL = "https://europe-west4-acme-churn-dev.cloudfunctions.net/churn-trigger"
RUN_URL = "https://churn-trigger-123456789012.europe-west4.run.app"


def _with_trigger_url(tmp_path, url: str):
    text = (ENVIRONMENTS / "dev.yaml").read_text()
    assert f"trigger_url: {RUN_URL}\n" in text
    (tmp_path / "dev.yaml").write_text(
        text.replace(f"trigger_url: {RUN_URL}", f"trigger_url: {url}")
    )
    return tmp_path


def test_the_shipped_trigger_url_is_the_url_cloud_run_reports(cloud, runs):
    code, out = _second_run(cloud, runs, trigger_settings(DEP))
    assert code == 0
    assert ["run", "services", "describe", "churn-trigger", *DESCRIBE[3:]] in [
        e["argv"] for e in cloud.log()
    ]
    assert "identity and audience as in the file" in out


def test_a_cloudfunctions_net_trigger_url_is_reported_with_the_url_to_use(cloud, runs, tmp_path):
    envs = _with_trigger_url(tmp_path, OLD_URL)
    code, out = _second_run(cloud, runs, trigger_settings(DEP), environments=envs)
    assert code == 0
    status = next(line for line in out.splitlines() if "trigger function churn-trigger" in line)
    assert status.split()[0] == "differs" and "OIDC audience" in status
    todo = out.split("Left to do by hand:")[1]
    assert f"trigger_url {OLD_URL} is neither the function's Cloud Run URL {RUN_URL}" in todo
    assert f"Set trigger_url: {RUN_URL} in" in todo
    assert (
        "gcloud functions describe churn-trigger --region=europe-west4 --project=acme-churn-dev "
        "'--format=value(serviceConfig.uri)'" in todo
    )
    # The setup changes nothing about it: the file is the user's to edit.
    assert all(argv[0] == "run" for argv in cloud.changes()), cloud.changes()


def test_a_url_the_service_lists_as_custom_audience_is_accepted(cloud, runs, tmp_path):
    envs = _with_trigger_url(tmp_path, OLD_URL)
    code, out = _second_run(
        cloud, runs, trigger_settings(DEP), environments=envs, custom_audiences=(OLD_URL,)
    )
    assert code == 0
    assert "identity and audience as in the file" in out
    assert "OIDC audience" not in out


def test_a_trigger_deployed_as_printed_is_ok_and_not_redeployed(cloud, runs):
    code, out = _second_run(cloud, runs, trigger_settings(DEP))
    assert code == 0
    assert DESCRIBE in [e["argv"] for e in cloud.log()]
    assert "ok       trigger function churn-trigger settings: 8 variable(s)" in out
    assert "gcloud functions deploy" not in out


def test_a_trigger_deployed_before_alerts_were_set_is_reported_with_the_deploy_command(cloud, runs):
    env = trigger_settings(DEP)
    del env["ALERTS_TOPIC"]
    env["PIPELINE_ROOT"] = "gs://acme-churn-dev-pipelines/old-runs"
    env["MANUAL_RUNS"] = "deny"  # an optional variable the team chose: not a difference
    code, out = _second_run(cloud, runs, env)
    assert code == 0
    # Only looks and the invoker binding: the function itself is never changed by the setup.
    assert all(argv[0] == "run" for argv in cloud.changes()), cloud.changes()
    status = next(line for line in out.splitlines() if "trigger function churn-trigger" in line)
    assert status.split()[0] == "differs"
    todo = out.split("Left to do by hand:")[1]
    assert "ALERTS_TOPIC is not set (want projects/acme-churn-dev/topics/churn-alerts)" in todo
    assert (
        "PIPELINE_ROOT is gs://acme-churn-dev-pipelines/old-runs, not "
        "gs://acme-churn-dev-pipelines/runs" in todo
    )
    assert "MANUAL_RUNS" not in todo
    assert "gcloud functions deploy churn-trigger" in todo
    assert "ALERTS_TOPIC=projects/acme-churn-dev/topics/churn-alerts" in todo


def test_a_trigger_running_as_the_default_compute_account_is_reported(cloud, runs):
    code, out = _second_run(cloud, runs, trigger_settings(DEP), account="")
    assert code == 0
    todo = out.split("Left to do by hand:")[1]
    assert f"it runs as the default compute account, not {TRIGGER}" in todo
    assert f"--service-account={TRIGGER}" in todo
