"""Every account an environment names is created and granted; every bucket gets exactly its role.

The expected roles are written out here (issue 9 A1, A2; least privilege as the IAM role
references define the roles) rather than taken from infra.desired, so a change there that drops
or widens a grant fails these tests. A conditional binding shows as "ROLE if TITLE".
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from contract.environment import environment_from
from contract.ownership import RELATIVE_PATH_PARAMETERS, join_location
from tests.infra.conftest import ENVIRONMENTS, REPO

VIEWER = "roles/storage.objectViewer"
USER = "roles/storage.objectUser"
#: Who needs what on each kind of location (issue 9 A2, infra brief). Nobody but the deploy
#: account (ci/deploy_iam.py) writes the templates bucket.
NEEDS = {
    "templates": {"pipelines": VIEWER, "trigger": VIEWER},
    "pipeline_root": {"pipelines": USER},
    "location:data": {"pipelines": VIEWER},
    "location:predictions": {"pipelines": USER},
    "location:models": {"pipelines": USER},
}
#: The trigger's leases: objectUser on the pipeline-root bucket, only under its lease folder.
LEASES = f"{USER} if trigger-leases-only"
PROJECT_ROLES = {
    "pipelines": {
        "roles/aiplatform.user",
        "roles/dataproc.editor",
        "projects/{project}/roles/churnDataprocWorker",
        "roles/dataproc.worker if storage-outside-templates",
        "roles/logging.logWriter",
    },
    "trigger": {"projects/{project}/roles/churnTrigger"},
    "invoker": set(),
}
ENV_NAMES = sorted(p.stem for p in ENVIRONMENTS.glob("*.yaml"))


def _deployment(name: str, directory: Path = ENVIRONMENTS):
    dep, problems = environment_from(name, yaml.safe_load((directory / f"{name}.yaml").read_text()))
    assert dep is not None, problems
    return dep


def _held(policy: dict) -> dict[str, set[str]]:
    """member -> roles of an IAM policy ("ROLE if TITLE" for a conditional binding)."""
    out: dict[str, set[str]] = {}
    for binding in policy.get("bindings", []):
        condition = binding.get("condition")
        role = binding["role"] + (f" if {condition['title']}" if condition else "")
        for member in binding["members"]:
            out.setdefault(member, set()).add(role)
    return out


def _expected_bucket_roles(dep) -> dict[str, dict[str, str]]:
    rank = {VIEWER: 1, USER: 2}
    expected: dict[str, dict[str, str]] = {}
    for what, bucket in dep.buckets().items():
        for account, role in NEEDS[what].items():
            member = f"serviceAccount:{dep.service_accounts[account]}"
            current = expected.setdefault(bucket, {}).get(member)
            if current is None or rank[role] > rank[current]:
                expected[bucket][member] = role
    return expected


def _lease_bucket(dep) -> str:
    return dep.pipeline_root.removeprefix("gs://").split("/", 1)[0]


def test_there_are_environments_to_check():
    assert {"dev", "prod"} <= set(ENV_NAMES)


@pytest.mark.parametrize("env", ENV_NAMES)
def test_every_account_and_bucket_is_created_and_granted_exactly(cloud, runs, env):
    dep = _deployment(env)
    first = runs.first(env)
    assert first.code == 0
    _check_buckets(first.state["buckets"], dep)
    _check_schedule_locations(first.state["buckets"], dep)
    cloud.start_from(first)
    # The trigger function gets deployed by hand; the next run grants its invoker.
    cloud.edit(
        lambda s: s["projects"][dep.project]["run_services"].update(
            {f"{dep.region}/churn-trigger": {"policy": {"bindings": []}}}
        )
    )
    assert cloud.bootstrap("--env", env)[0] == 0
    _check_accounts(cloud.state["projects"][dep.project], dep)


def _check_accounts(project: dict, dep) -> None:
    project_roles = _held(project["policy"])
    for key, email in dep.service_accounts.items():
        member = f"serviceAccount:{email}"
        assert email in project["accounts"], f"{key} account {email} not created"
        expected = {role.format(project=dep.project) for role in PROJECT_ROLES[key]} | (
            {"roles/bigquery.jobUser"} if key == "pipelines" and dep.bigquery_dataset else set()
        )
        assert project_roles.get(member, set()) == expected, key
    pipelines = dep.service_accounts["pipelines"]
    acting = _held(project["accounts"][pipelines]["policy"])
    assert acting == {
        f"serviceAccount:{dep.service_accounts['trigger']}": {"roles/iam.serviceAccountUser"},
        f"serviceAccount:{pipelines}": {"roles/iam.serviceAccountUser"},
    }
    repo = project["repositories"][f"{dep.region}/churn"]
    assert _held(repo["policy"]) == {
        f"serviceAccount:{pipelines}": {"roles/artifactregistry.reader"}
    }
    service = project["run_services"][f"{dep.region}/churn-trigger"]
    assert _held(service["policy"]) == {
        f"serviceAccount:{dep.service_accounts['invoker']}": {"roles/run.invoker"}
    }


def _check_buckets(buckets: dict, dep) -> None:
    expected = _expected_bucket_roles(dep)
    assert set(buckets) == set(expected)
    trigger = f"serviceAccount:{dep.service_accounts['trigger']}"
    for bucket, roles in expected.items():
        held = _held(buckets[bucket]["policy"])
        want = {member: {role} for member, role in roles.items()}
        if bucket == _lease_bucket(dep):
            want.setdefault(trigger, set()).add(LEASES)
        assert held == want, bucket
        assert all(m.endswith(f"@{dep.project}.iam.gserviceaccount.com") for m in held)


def _check_schedule_locations(buckets: dict, dep) -> None:
    """Schedules name data only relative to the environment's locations; those are granted."""
    schedules = sorted((REPO / "schedules").glob("*.yaml"))
    assert schedules
    member = f"serviceAccount:{dep.service_accounts['pipelines']}"
    relative_seen = 0
    for path in schedules:
        parameters = (yaml.safe_load(path.read_text()) or {}).get("parameters") or {}
        for name, value in parameters.items():
            assert not (isinstance(value, str) and "://" in value), (
                f"{path.name}: {name} names a location ({value}); locations belong to the "
                "environment file, so the setup grants them"
            )
            if name in RELATIVE_PATH_PARAMETERS:
                relative_seen += 1
                uri = join_location(dep.locations["data"], value)
                bucket = uri.removeprefix("gs://").split("/", 1)[0]
                held = _held(buckets[bucket]["policy"]).get(member, set())
                assert held & {VIEWER, USER}, f"{dep.name}: {uri} not readable by pipelines"
    assert relative_seen, "no schedule uses a relative data path: nothing was checked"


def test_shared_bucket_gets_the_strongest_role_once(cloud, tmp_path):
    text = (ENVIRONMENTS / "dev.yaml").read_text()
    text = text.replace("data: gs://acme-churn-dev-data", "data: gs://acme-churn-dev-results/data")
    (tmp_path / "dev.yaml").write_text(text)
    assert cloud.bootstrap("--env", "dev", environments=tmp_path)[0] == 0
    buckets = cloud.state["buckets"]
    assert "acme-churn-dev-data" not in buckets
    assert _held(buckets["acme-churn-dev-results"]["policy"]) == {
        "serviceAccount:churn-pipelines@acme-churn-dev.iam.gserviceaccount.com": {USER}
    }


def test_a_new_environment_file_is_set_up_the_same_way(cloud, tmp_path):
    (tmp_path / "test.yaml").write_text(
        textwrap.dedent(
            """\
            project: acme-churn-test
            region: europe-west1
            trigger_url: https://churn-fire-333333333333.europe-west1.run.app
            template_base: gs://acme-churn-test-code/templates
            pipeline_root: gs://acme-churn-test-runs/root
            job_prefix: test-
            service_accounts:
              pipelines: runner-sa@acme-churn-test.iam.gserviceaccount.com
              invoker: caller-sa@acme-churn-test.iam.gserviceaccount.com
              trigger: fire-sa@acme-churn-test.iam.gserviceaccount.com
            locations:
              data: gs://acme-churn-test-lake/raw
              predictions: gs://acme-churn-test-lake/scores
              models: gs://acme-churn-test-models
            """
        )
    )
    code, out, err = cloud.bootstrap("--env", "test", environments=tmp_path)
    assert code == 0, err
    state = cloud.state
    project = state["projects"]["acme-churn-test"]
    assert sorted(project["accounts"]) == [
        "caller-sa@acme-churn-test.iam.gserviceaccount.com",
        "fire-sa@acme-churn-test.iam.gserviceaccount.com",
        "runner-sa@acme-churn-test.iam.gserviceaccount.com",
    ]
    runner = "serviceAccount:runner-sa@acme-churn-test.iam.gserviceaccount.com"
    fire = "serviceAccount:fire-sa@acme-churn-test.iam.gserviceaccount.com"
    assert _held(state["buckets"]["acme-churn-test-lake"]["policy"]) == {runner: {USER}}
    assert _held(state["buckets"]["acme-churn-test-code"]["policy"]) == {
        runner: {VIEWER},
        fire: {VIEWER},
    }
    assert _held(state["buckets"]["acme-churn-test-runs"]["policy"]) == {
        runner: {USER},
        fire: {LEASES},
    }
    leases = state["buckets"]["acme-churn-test-runs"]["policy"]["bindings"]
    assert [b["condition"]["expression"] for b in leases if b.get("condition")] == [
        'resource.name.startsWith("projects/_/buckets/acme-churn-test-runs/objects/root/'
        'trigger-leases/")'
    ]
    assert state["buckets"]["acme-churn-test-code"]["location"] == "EUROPE-WEST1"
    # No subnetwork named: Dataproc uses the region's default one, nothing network is created.
    assert project["subnets"] == {} and project["firewalls"] == {}
    # The function's name comes from trigger_url.
    assert "gcloud functions deploy churn-fire" in out
    assert "roles on trigger service churn-fire" in out
