"""Validation of schedule and environment files: pure logic, no server."""

from __future__ import annotations

import pytest

from scheduling.cron import cron_errors, time_zone_error
from scheduling.spec import format_duration, parse_duration
from scheduling.validate import validate_tree

GOOD = """\
pipeline: churn-training
template: latest
cron: "0 3 * * 1"
time_zone: Europe/Amsterdam
description: Weekly retrain
enabled: true
parameters:
  raw_data_path: raw/latest.csv
  gate_threshold: 0.6
retry: {count: 3, min_backoff: 30s, max_backoff: 10m}
attempt_deadline: 5m
max_concurrent_runs: 1
"""


def messages(result) -> list[str]:
    return [str(p) for p in result.problems]


def line_of(tree, name: str, fragment: str) -> int:
    """The 1-based line of schedules/<name> that contains `fragment`."""
    lines = (tree.root / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def test_shipped_schedules_are_valid_against_the_planned_pipelines(tree, templates_dir):
    result = validate_tree(tree.root, templates_dir)
    assert messages(result) == []
    assert sorted(s.name for s in result.schedules) == [
        "churn-scoring-daily",
        "churn-training-weekly",
    ]
    assert sorted(result.environments) == ["dev", "prod"]
    typed = result.parameters[("prod", "churn-training-weekly")]
    assert typed["gate_threshold"] == 0.6
    assert typed["raw_data_path"] == "raw/latest.csv"
    # identities and locations are the deployment's: never in what a schedule sends
    assert "service_account" not in typed and "data_uri" not in typed
    assert result.environments["prod"].invoker_service_account == (
        "churn-scheduler@acme-churn-prod.iam.gserviceaccount.com"
    )


def test_every_problem_in_every_file_is_reported_at_once_with_its_line(tree, templates_dir):
    tree.write(
        "bad.yaml",
        """\
        pipeline: churn-training
        cron: "0 3 * *"
        time_zone: Europe/Amsterdm
        time_zon: UTC
        parameters:
          gate_treshold: 0.6
          tune_folds: many
        retry: {count: 9, min_backoff: 20m, max_backoff: 10m}
        attempt_deadline: 1h
        """,
    )
    tree.write(
        "worse.yaml",
        """\
        pipeline: churn-trainin
        cron: "61 * * * *"
        """,
    )
    found = messages(validate_tree(tree.root, templates_dir))
    bad = "schedules/bad.yaml"
    text = "\n".join(found)
    # each problem on the line of the key it is about
    assert any(m.startswith(f"{bad}:2: cron '0 3 * *' has 4 field(s)") for m in found), text
    assert any(
        m.startswith(
            f"{bad}:3: unknown time zone 'Europe/Amsterdm'; did you mean 'Europe/Amsterdam'"
        )
        for m in found
    ), text
    assert any(
        m.startswith(f"{bad}:4: unknown key 'time_zon' in a schedule; did you mean 'time_zone'?")
        for m in found
    ), text
    assert any(
        m.startswith(f"{bad}:6: pipeline 'churn-training': parameter 'gate_treshold'")
        for m in found
    ), text
    assert any(m.startswith(f"{bad}:8: 'count' must be between 0 and 5, got 9") for m in found)
    assert any(
        m.startswith(f"{bad}:8: min_backoff (20m) is longer than max_backoff") for m in found
    )
    assert any(
        m.startswith(f"{bad}:9: 'attempt_deadline' 1h is outside Cloud Scheduler's limits")
        for m in found
    ), text
    worse = "schedules/worse.yaml"
    assert any(m.startswith(f"{worse}:2: cron '61 * * * *': minute field '61'") for m in found), (
        text
    )
    assert any(m.startswith(f"{worse}:1: unknown pipeline 'churn-trainin'") for m in found), text


def test_parameter_problems_name_the_pipeline_and_the_line(tree, templates_dir):
    tree.write(
        "params.yaml",
        """\
        pipeline: churn-training
        cron: "0 3 * * 1"
        parameters:
          gate_treshold: 0.6
          tune_folds: many
          classifier: 3
        """,
    )
    found = messages(validate_tree(tree.root, templates_dir))
    path = "schedules/params.yaml"
    text = "\n".join(found)
    assert (
        f"{path}:4: pipeline 'churn-training': parameter 'gate_treshold': not declared by the "
        "pipeline; did you mean 'gate_threshold'?"
    ) in text
    assert f"{path}:5: pipeline 'churn-training': parameter 'tune_folds': expected integer" in text
    assert f"{path}:6: pipeline 'churn-training': parameter 'classifier': expected string" in text
    assert (
        f"{path}:3: pipeline 'churn-training': parameter 'raw_data_path': required by the "
        "pipeline (string) but not given"
    ) in text
    # deployment-owned parameters are filled in at publish time, never "missing" here
    assert "'data_uri'" not in text and "'spark_code_uri'" not in text


def test_unknown_pipeline_suggests_the_compiled_ones(tree, templates_dir):
    tree.write("x.yaml", 'pipeline: churn-trainig\ncron: "0 3 * * 1"\n')
    found = messages(validate_tree(tree.root, templates_dir))
    assert any(
        m.startswith(
            "schedules/x.yaml:1: unknown pipeline 'churn-trainig'; did you mean 'churn-training'?"
        )
        for m in found
    ), found


def test_missing_templates_say_to_compile_first(tree, tmp_path):
    found = messages(validate_tree(tree.root, tmp_path / "nowhere"))
    assert found
    assert all("run `python compile.py` first" in m for m in found), found


def test_duplicate_job_names_and_duplicate_keys(tree, templates_dir):
    tree.write("twin.yaml", GOOD)
    tree.write("twin.yml", GOOD)
    tree.write("dupkey.yaml", GOOD + 'cron: "0 4 * * 1"\n')
    found = messages(validate_tree(tree.root, templates_dir))
    # a .yml twin is never read beside (or instead of) the .yaml: it is refused by name
    assert any(
        m.startswith("schedules/twin.yml: file name 'twin.yml' ends in '.yml'") for m in found
    ), found
    assert "schedules/dupkey.yaml:13: key 'cron' appears more than once" in found


def test_invalid_yaml_reports_the_line(tree, templates_dir):
    tree.write("broken.yaml", 'pipeline: churn-training\ncron: "0 3 * * 1\nenabled: true\n')
    found = messages(validate_tree(tree.root, templates_dir))
    assert len([m for m in found if "broken.yaml" in m]) == 1
    assert any(m.startswith("schedules/broken.yaml:") and "invalid YAML" in m for m in found)


def test_environment_defaults_are_checked_where_they_are_written(tree, templates_dir):
    dev = "schedules/environments/dev.yaml"
    line = len((tree.root / "environments/dev.yaml").read_text().splitlines()) + 2
    tree.edit(
        "environments/dev.yaml",
        "  subnetwork: churn-dataproc\n",
        "  subnetwork: churn-dataproc\nparameters:\n  tune_folds: lots\n  sead: 1\n",
    )
    found = messages(validate_tree(tree.root, templates_dir))
    assert any(
        m.startswith(
            f"{dev}:{line}: pipeline 'churn-training': parameter 'tune_folds': expected integer"
        )
        for m in found
    ), found
    assert any(
        m.startswith(
            f"{dev}:{line + 1}: parameter 'sead' is not declared by any pipeline; "
            "did you mean 'seed'"
        )
        for m in found
    ), found


def test_the_schedule_wins_over_the_environment_default(tree, templates_dir):
    tree.edit(
        "environments/prod.yaml",
        "  subnetwork: churn-dataproc\n",
        "  subnetwork: churn-dataproc\nparameters:\n  classifier: gbt\n  tune_folds: 5\n",
    )
    result = validate_tree(tree.root, templates_dir)
    assert messages(result) == []
    # the shipped weekly training sets classifier: rf itself
    typed = result.parameters[("prod", "churn-training-weekly")]
    assert typed["classifier"] == "rf"
    assert typed["tune_folds"] == 5
    # scoring does not declare classifier, so the environment default does not reach it
    assert "classifier" not in result.parameters[("prod", "churn-scoring-daily")]


def test_a_problem_in_one_environment_only_says_which(tree, templates_dir):
    tree.write(
        "uri.yaml",
        'pipeline: churn-training\ncron: "0 3 * * 1"\n'
        "template: gs://acme-churn-dev-templates/templates/v7/templates/churn-training.yaml\n"
        "parameters: {raw_data_path: raw/x.csv}\n",
    )
    found = messages(validate_tree(tree.root, templates_dir))
    assert len(found) == 1, found
    assert "outside the environment's template_base" in found[0]
    assert found[0].endswith("(in environment prod)")
    assert found[0].startswith("schedules/uri.yaml:3:")


def test_only_the_requested_environment_and_unknown_environment(tree, templates_dir):
    assert validate_tree(tree.root, templates_dir, only_env="dev").ok
    found = messages(validate_tree(tree.root, templates_dir, only_env="staging"))
    assert found == [
        "schedules/environments/staging.yaml: no such environment 'staging' (available: dev, prod)"
    ]


def test_environment_file_problems(tree, templates_dir):
    tree.write(
        "environments/dev.yaml",
        """\
        project: acme dev
        region: europe-west4
        trigger_url: ftp://nope
        template_base: /local/dir
        pipeline_root: gs://acme-churn-dev-pipelines/runs
        job_prefx: dev-
        service_accounts:
          pipelines: churn-pipelines@acme-churn-dev.iam.gserviceaccount.com
          trigger: churn-trigger@other-project.iam.gserviceaccount.com
        locations:
          data: gs://acme-churn-dev-data
          predictions: gs://acme-churn-dev-results/predictions
          models: gs://acme-churn-dev-models
          scratch: gs://acme-churn-dev-scratch
        """,
    )
    found = messages(validate_tree(tree.root, templates_dir, only_env="dev"))
    dev = "schedules/environments/dev.yaml"
    text = "\n".join(found)
    assert f"{dev}:1: 'acme dev' is not a Google Cloud project id" in found, text
    assert (
        f"{dev}:3: 'trigger_url' must be an https:// URL, got 'ftp://nope': write "
        "https://HOST[:PORT][/PATH], without user, query or fragment"
    ) in found, text
    assert f"{dev}:4: must be a gs://BUCKET[/PATH] URI, got '/local/dir'" in found, text
    assert any(m.startswith(f"{dev}:6: unknown key 'job_prefx'") for m in found), text
    assert any(
        m.startswith(f"{dev}:7: missing 'invoker' (Cloud Scheduler's OIDC identity") for m in found
    ), text
    assert any(
        m.startswith(f"{dev}:9: 'churn-trigger@other-project.iam.gserviceaccount.com' belongs")
        for m in found
    ), text
    assert any(m.startswith(f"{dev}:14: unknown key 'scratch'") for m in found), text


def test_environment_parameters_may_not_set_what_the_deployment_owns(tree, templates_dir):
    tree.edit(
        "environments/dev.yaml",
        "  subnetwork: churn-dataproc\n",
        "  subnetwork: churn-dataproc\nparameters:\n  seed: 7\n"
        "  service_account: other@evil-project.iam.gserviceaccount.com\n",
    )
    found = messages(validate_tree(tree.root, templates_dir, only_env="dev"))
    line = len((tree.root / "environments/dev.yaml").read_text().splitlines())
    assert found == [
        f"schedules/environments/dev.yaml:{line}: parameter 'service_account' belongs to the "
        "deployment (code, identity, network and data locations come from the environment file "
        "when the templates are published); remove it"
    ]


def test_two_environments_may_not_share_a_project_or_a_bucket(tree, templates_dir):
    tree.edit(
        "environments/prod.yaml",
        "data: gs://acme-churn-prod-data",
        "data: gs://acme-churn-dev-data",
    )
    line = line_of(tree, "environments/prod.yaml", "data: gs://acme-churn-dev-data")
    found = messages(validate_tree(tree.root, templates_dir))
    assert found == [
        f"schedules/environments/prod.yaml:{line}: bucket 'acme-churn-dev-data' is also used by "
        "environment 'dev'"
    ]
    # one environment alone has nothing to compare with
    assert validate_tree(tree.root, templates_dir, only_env="prod").ok


@pytest.mark.parametrize(
    "base", ["gs://", "gs://acme-churn-dev-templates/../prod", "gs://acme-churn-dev-templates/./x"]
)
def test_a_template_base_must_name_a_bucket_without_dot_segments(tree, templates_dir, base):
    tree.edit(
        "environments/dev.yaml",
        "template_base: gs://acme-churn-dev-templates/templates",
        f"template_base: {base}",
    )
    line = line_of(tree, "environments/dev.yaml", "template_base: gs:")
    found = messages(validate_tree(tree.root, templates_dir, only_env="dev"))
    assert found == [
        f"schedules/environments/dev.yaml:{line}: must be a gs://BUCKET[/PATH] URI, got '{base}'"
    ]


@pytest.mark.parametrize(
    "expr",
    [
        "0 3 * * 1",
        "*/15 * * * *",
        "0 9-17 * * MON-FRI",
        "0 0 1 JAN,JUL *",
        "0 0 * * 7",
        "5,35 1-23/2 * * *",
        "0 0 29 2 *",
    ],
)
def test_cron_accepts_cloud_scheduler_syntax(expr):
    assert cron_errors(expr) == []


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("0 3 * *", "has 4 field(s)"),
        ("0 0 0 * * *", "has 6 field(s)"),
        ("@daily", "has 1 field(s)"),
        ("60 * * * *", "minute field '60'"),
        ("0 24 * * *", "hour field '24'"),
        ("0 0 0 * *", "day of month field '0'"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * 8", "day of week field '8'"),
        ("*/0 * * * *", "a step must be at least 1"),
        ("5-1 * * * *", "range '5-1' goes backwards"),
        ("0 0 L * *", "day of month field 'L'"),
        ("0 0 ? * *", "day of month field '?'"),
        ("0 0 * * MON#2", "day of week field 'MON#2'"),
    ],
)
def test_cron_rejects_what_cloud_scheduler_rejects(expr, fragment):
    errors = cron_errors(expr)
    assert len(errors) == 1
    assert fragment in errors[0]


def test_time_zones():
    assert time_zone_error("Europe/Amsterdam") is None
    assert time_zone_error("UTC") is None
    assert time_zone_error("utc").startswith("time zone 'utc': write 'UTC'")
    assert time_zone_error("europe/amsterdam").startswith(
        "time zone 'europe/amsterdam' is not written as the tz database writes it: use "
        "'Europe/Amsterdam'"
    )
    assert time_zone_error("Mars/Olympus") == "unknown time zone 'Mars/Olympus'"
    assert "did you mean 'America/New_York'" in time_zone_error("America/NewYork")
    assert time_zone_error("/etc/localtime") == "unknown time zone '/etc/localtime'"


@pytest.mark.parametrize(
    "name", ["localtime", "posixrules", "right/Europe/Amsterdam", "posix/UTC", "Factory"]
)
def test_machine_dependent_zones_are_refused(name):
    assert time_zone_error(name).startswith(
        f"time zone '{name}' depends on the machine's zone files"
    )


@pytest.mark.parametrize(
    ("text", "seconds", "shown"),
    [
        ("30s", 30, "30s"),
        ("10m", 600, "10m"),
        ("1h30m", 5400, "1h30m"),
        ("1.5s", 1.5, "1.5s"),
        (90, 90, "1m30s"),
        ("0s", 0, "0s"),
    ],
)
def test_durations(text, seconds, shown):
    assert parse_duration(text) == seconds
    assert format_duration(parse_duration(text)) == shown


@pytest.mark.parametrize("text", ["", "5 minutes", "-3s", "1d", True, None, "m", [1]])
def test_bad_durations(text):
    assert parse_duration(text) is None


def test_an_unsafe_default_path_in_an_environment_is_refused_at_its_line(tree, templates_dir):
    # An environment's defaults meet the rules a schedule's own values meet (one model checks
    # both): a default data path may not climb out of the environment's data location.
    dev = tree.root / "environments" / "dev.yaml"
    text = dev.read_text() + "parameters:\n  raw_data_path: ../prod/raw.csv\n"
    dev.write_text(text)
    line = text.splitlines().index("  raw_data_path: ../prod/raw.csv") + 1
    found = messages(validate_tree(tree.root, templates_dir, only_env="dev"))
    assert any(
        m.startswith(f"schedules/environments/dev.yaml:{line}: parameter 'raw_data_path'")
        for m in found
    ), found


def test_the_reconciler_needs_a_trigger_url(tree, templates_dir):
    dev = tree.root / "environments" / "dev.yaml"
    text = "\n".join(
        line for line in dev.read_text().splitlines() if not line.startswith("trigger_url:")
    )
    dev.write_text(text + "\n")
    found = messages(validate_tree(tree.root, templates_dir, only_env="dev"))
    assert any("missing required key 'trigger_url'" in m for m in found), found
