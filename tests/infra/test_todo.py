"""The "left to do by hand" text: a trigger deploy command the function accepts, operator grants.

The trigger's required settings are read from trigger/README.md's configuration table (not a
copy here), and the printed variables are handed to the trigger's own `Settings.from_env`, run
from the deployable folder as Cloud Functions runs it (trigger/ with its contract vendored in, as
the printed command makes it): a deploy command it would refuse fails.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import pytest

from infra.desired import lease_root
from infra.envfile import load
from infra.todo import OPERATOR_PLACEHOLDER, left_to_do
from tests.infra.conftest import ENVIRONMENTS, REPO
from tests.trigger.trigger_harness import deployed_folder

TRIGGER = REPO / "trigger"
ENV_NAMES = sorted(p.stem for p in ENVIRONMENTS.glob("*.yaml"))
#: Prints the fields of the trigger's Settings built from exactly the variables given on stdin.
READ_SETTINGS = """
import json, sys
from settings import Settings
try:
    s = Settings.from_env(json.load(sys.stdin))
except ValueError as err:
    print(json.dumps({"error": str(err)}))
else:
    print(json.dumps({k: v for k, v in vars(s).items() if isinstance(v, (str, bool, float))}))
"""


def _configuration_table() -> dict[str, str]:
    """variable -> meaning, from trigger/README.md's "Configuration" section."""
    text = (TRIGGER / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.*) \|$", section, flags=re.MULTILINE)
    return dict(rows)


def _required() -> set[str]:
    return {
        name
        for name, meaning in _configuration_table().items()
        if re.search(r"— required\b", meaning)
    }


def _deploy_variables(item: str) -> dict[str, str]:
    """The --set-env-vars of the `gcloud functions deploy` line of a to-do item."""
    line = next(line.strip() for line in item.splitlines() if "gcloud functions deploy" in line)
    flag = next(arg for arg in shlex.split(line) if arg.startswith("--set-env-vars="))
    pairs = [pair.split("=", 1) for pair in flag.removeprefix("--set-env-vars=").split(",")]
    assert all(len(pair) == 2 for pair in pairs), flag
    variables = dict(pairs)
    assert len(variables) == len(pairs), f"a variable is set twice: {flag}"
    return variables


def _deploy_item(env) -> str:
    items = left_to_do(env, trigger_deployed=False)
    return next(item for item in items if "gcloud functions deploy" in item)


def _trigger_settings(variables: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=deployed_folder(),  # trigger/ as deployed: its contract vendored in
        input=json.dumps(variables),
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_readme_table_is_read_and_names_real_settings():
    table = _configuration_table()
    required = _required()
    settings_code = (TRIGGER / "settings.py").read_text(encoding="utf-8")
    # Parsing found the table, and every row it found is a variable the settings code reads.
    assert required and set(required) <= set(table)
    for name in table:
        if not name.endswith("_EMULATOR_HOST"):  # read by the client libraries, not Settings
            assert f'"{name}"' in settings_code, name


@pytest.mark.parametrize("name", ENV_NAMES)
def test_the_deploy_command_carries_every_required_setting_and_the_trigger_accepts_it(name):
    env = load(ENVIRONMENTS, name)
    dep = env.deployment
    variables = _deploy_variables(_deploy_item(env))
    assert _required() <= set(variables), _required() - set(variables)
    assert set(variables) <= set(_configuration_table()), "a variable the trigger does not read"
    settings = _trigger_settings(variables)
    assert "error" not in settings, settings
    assert settings["project"] == dep.project
    assert settings["region"] == dep.region
    assert settings["environment"] == dep.name
    assert settings["pipeline_root"] == dep.pipeline_root
    assert settings["service_account"] == dep.service_accounts["pipelines"]
    assert settings["scheduler_invoker"] == dep.service_accounts["invoker"]
    # The trigger keeps its leases where its conditional grant lets it write (desired.py).
    bucket, _, prefix = lease_root(dep).removeprefix("gs://").partition("/")
    assert (settings["lease_bucket"], settings["lease_prefix"]) == (bucket, prefix)
    # The environment's topic reaches the trigger: a fire with no run is alerted there.
    assert dep.alerts_topic, "the repository's environments name an alerts topic"
    assert settings["alerts_topic"] == dep.alerts_topic == variables["ALERTS_TOPIC"]
    # Without one required variable the function would not start: the test can tell.
    missing_one = dict(variables)
    missing_one.pop(sorted(_required())[0])
    assert "error" in _trigger_settings(missing_one)


def test_without_alerts_no_alerts_topic_is_set(tmp_path):
    text = (ENVIRONMENTS / "dev.yaml").read_text()
    (tmp_path / "dev.yaml").write_text(text.replace("alerts:\n  pubsub_topic: churn-alerts\n", ""))
    env = load(tmp_path, "dev")
    variables = _deploy_variables(_deploy_item(env))
    assert "ALERTS_TOPIC" not in variables
    assert _required() <= set(variables)
    assert _trigger_settings(variables)["alerts_topic"] == ""


@pytest.mark.parametrize("name", ENV_NAMES)
def test_operators_are_told_to_get_token_creator_on_the_invoker_only(name):
    env = load(ENVIRONMENTS, name)
    dep = env.deployment
    for deployed in (False, True):
        item = next(
            i for i in left_to_do(env, trigger_deployed=deployed) if "schedule.py backfill" in i
        )
        line = next(line.strip() for line in item.splitlines() if line.strip().startswith("gcloud"))
        assert shlex.split(line) == [
            "gcloud",
            "iam",
            "service-accounts",
            "add-iam-policy-binding",
            dep.service_accounts["invoker"],
            f"--project={dep.project}",
            "--role=roles/iam.serviceAccountOpenIdTokenCreator",
            f"--member={OPERATOR_PLACEHOLDER}",
        ]
        assert "run NAME --param" in item and "user:ONCALL@example.com" in item
