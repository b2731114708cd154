"""Property-based: whatever a schedule or environment file holds, validation answers with clear
`file:line: message` problems, never a traceback."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.environment import KEYS as ENVIRONMENT_KEYS
from scheduling.params import load_catalog
from scheduling.spec import RETRY_KEYS, SCHEDULE_KEYS
from scheduling.validate import validate_sources

VALID_SCHEDULE = {
    "pipeline": "churn-training",
    "template": "latest",
    "cron": "0 3 * * 1",
    "time_zone": "Europe/Amsterdam",
    "description": "Weekly retrain",
    "enabled": True,
    "parameters": {"raw_data_path": "raw/latest.csv", "gate_threshold": 0.6, "tune_folds": 3},
    "retry": {"count": 3, "min_backoff": "30s", "max_backoff": "10m"},
    "attempt_deadline": "5m",
    "max_concurrent_runs": 1,
}
VALID_ENV = {
    "project": "acme-dev",
    "region": "europe-west4",
    "trigger_url": "https://trigger.test/run",
    "template_base": "gs://acme-templates/templates",
    "pipeline_root": "gs://acme-runs/runs",
    "job_prefix": "dev-",
    "service_accounts": {
        "pipelines": "pipelines@acme-dev.iam.gserviceaccount.com",
        "invoker": "invoker@acme-dev.iam.gserviceaccount.com",
        "trigger": "trigger@acme-dev.iam.gserviceaccount.com",
    },
    "locations": {
        "data": "gs://acme-data",
        "predictions": "gs://acme-results/predictions",
        "models": "gs://acme-models",
    },
    "dataproc": {"runtime_version": "3.0", "subnetwork": "churn-dataproc"},
    "parameters": {"seed": 7},
}
FILE = "schedules/s.yaml"
ENV_FILE = "schedules/environments/dev.yaml"
PROBLEM = re.compile(r"^schedules/(s|environments/dev)\.yaml(:[1-9][0-9]*)?: \S.*$", re.S)

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.dates(),
    st.datetimes(),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(["0 3 * * 1", "*/5 * * * *", "30s", "10m", "1h", "UTC", "latest", "gs://x"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.one_of(text, st.sampled_from(SCHEDULE_KEYS + RETRY_KEYS)), children, max_size=3
        )
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def catalog(templates_dir):
    return load_catalog(templates_dir)


def check(schedule_text: str, env_text: str, catalog) -> list[str]:
    result = validate_sources([("s", FILE, schedule_text)], [("dev", ENV_FILE, env_text)], catalog)
    problems = [str(p) for p in result.problems]
    for problem in problems:
        assert PROBLEM.match(problem), problem
    return problems


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_valid_examples_are_valid(catalog):
    assert check(dump(VALID_SCHEDULE), dump(VALID_ENV), catalog) == []


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_as_a_schedule_file(catalog, raw):
    check(raw, dump(VALID_ENV), catalog)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values)
def test_any_yaml_value_as_a_file(catalog, value):
    problems = check(dump(value), dump(value), catalog)
    assert problems  # neither a schedule nor an environment can be a random value


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    replaced=st.dictionaries(st.sampled_from(SCHEDULE_KEYS), values, max_size=4),
    removed=st.sets(st.sampled_from(SCHEDULE_KEYS), max_size=3),
    added=st.dictionaries(text, values, max_size=2),
    retry=st.dictionaries(st.sampled_from(RETRY_KEYS), values, max_size=3),
    params=st.dictionaries(text, values, max_size=3),
)
def test_mutated_schedules(catalog, replaced, removed, added, retry, params):
    spec = {k: v for k, v in VALID_SCHEDULE.items() if k not in removed}
    spec.update(added)
    spec.update(replaced)
    if isinstance(spec.get("retry"), dict):
        spec["retry"] = {**spec["retry"], **retry}
    if isinstance(spec.get("parameters"), dict):
        spec["parameters"] = {**spec["parameters"], **params}
    problems = check(dump(spec), dump(VALID_ENV), catalog)
    for key in ("pipeline", "cron"):
        if key in removed and key not in replaced:
            assert any(f"missing required key '{key}'" in p for p in problems), problems
    if not (replaced or removed or added or retry or params):
        assert problems == []


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    replaced=st.dictionaries(st.sampled_from(ENVIRONMENT_KEYS), values, max_size=4),
    removed=st.sets(st.sampled_from(ENVIRONMENT_KEYS), max_size=3),
)
def test_mutated_environments(catalog, replaced, removed):
    env = {k: v for k, v in VALID_ENV.items() if k not in removed}
    env.update(replaced)
    problems = check(dump(VALID_SCHEDULE), dump(env), catalog)
    required = {
        "project",
        "region",
        "trigger_url",
        "template_base",
        "pipeline_root",
        "service_accounts",
        "locations",
    }
    if (required & removed) - set(replaced):
        assert problems, (removed, replaced)
    if "trigger_url" in removed - set(replaced):
        assert any("missing required key 'trigger_url'" in p for p in problems), problems
