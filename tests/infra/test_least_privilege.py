"""Least privilege, computed: what each runtime identity can do once the setup has run.

The setup runs against the fake gcloud; tests/infra/iam_model.py then evaluates the policies it
left (project, buckets, custom roles, conditions) with the role -> permissions table copied from
the IAM roles reference (fakes/iam_roles.py). No runtime identity (pipelines, trigger,
invoker) may write the templates, the Spark code or `latest`: only the deploy account can
(tests/ci/test_deploy_iam_setup.py).
"""

from __future__ import annotations

import pytest

from fakes import iam_cel
from infra.envfile import load
from infra.trigger_config import trigger_settings
from tests.infra.conftest import ENVIRONMENTS, start_cloud
from tests.infra.iam_model import (
    OBJECT_WRITES,
    allowed,
    gcs_bucket,
    gcs_object,
    permissions,
    project,
    under_project,
)

ENV_NAMES = sorted(p.stem for p in ENVIRONMENTS.glob("*.yaml"))
READ = "storage.objects.get"
WRITE = ("storage.objects.create", "storage.objects.delete")


@pytest.fixture(scope="module", params=ENV_NAMES)
def set_up(request, tmp_path_factory, runs):
    """(deployment, state) once the setup ran, the trigger was deployed, and it ran again."""
    env = request.param
    dep = load(ENVIRONMENTS, env).deployment
    with pytest.MonkeyPatch.context() as monkeypatch:
        cloud = start_cloud(tmp_path_factory.mktemp(env), monkeypatch)
        assert runs.first(env).code == 0
        cloud.start_from(runs.first(env))
        cloud.deploy_trigger(
            dep.project, dep.region, trigger_settings(dep), dep.service_accounts["trigger"]
        )
        assert cloud.bootstrap("--env", env)[0] == 0
        return dep, cloud.state


def _members(dep) -> dict[str, str]:
    return {key: f"serviceAccount:{email}" for key, email in dep.service_accounts.items()}


def _published(dep) -> list[str]:
    """What compile.py --publish writes (tooling/publishing.py) and schedule.py apply locks."""
    base = dep.template_base
    return [
        f"{base}/v1/templates/churn-training.yaml",
        f"{base}/v1/spark/train.py",
        f"{base}/v1/spark/churn.zip",
        f"{base}/v1/manifest.json",
        f"{base}/latest.json",
        f"{base}/v2/templates/new.yaml",
        f"{base}/_locks/schedule-apply-{dep.name}.json",
    ]


def test_no_runtime_identity_can_write_templates_spark_code_or_latest(set_up):
    dep, state = set_up
    for key, member in _members(dep).items():
        for uri in _published(dep):
            held = permissions(state, member, gcs_object(state, uri)) & OBJECT_WRITES
            assert held == set(), f"{key} can {sorted(held)} on {uri}"
        bucket = gcs_bucket(state, dep.template_base.removeprefix("gs://").split("/")[0])
        assert not {p for p in permissions(state, member, bucket) if "setIamPolicy" in p}, key


def test_pipelines_reads_templates_and_writes_its_outputs(set_up):
    dep, state = set_up
    me = _members(dep)["pipelines"]
    for uri in _published(dep)[:4]:
        assert allowed(state, me, READ, gcs_object(state, uri)), uri
    for uri in (
        f"{dep.pipeline_root}/123/churn-training/train/model/metadata/part-0",
        f"{dep.locations['models']}/churn/versions/v1/model/part-0",
        f"{dep.locations['predictions']}/2026-01-01/part-0.parquet",
    ):
        for permission in (READ, *WRITE):
            assert allowed(state, me, permission, gcs_object(state, uri)), (permission, uri)
    assert allowed(state, me, READ, gcs_object(state, f"{dep.locations['data']}/raw/x.csv"))
    # Dataproc Worker's other permissions (the batch infrastructure runs as this account):
    # granted unconditionally by the custom role, so the storage condition cannot drop them.
    for permission in (
        "dataproc.agents.create",
        "dataproc.tasks.lease",
        "dataprocrm.nodes.mintOAuthToken",
        "logging.logEntries.create",
        "monitoring.timeSeries.create",
        "dataproc.batches.create",
    ):
        assert allowed(state, me, permission, project(dep.project)), permission


def test_trigger_reads_templates_writes_only_its_leases_and_runs_pipeline_jobs(set_up):
    dep, state = set_up
    me = _members(dep)["trigger"]
    for uri in (f"{dep.template_base}/latest.json", f"{dep.template_base}/v1/templates/a.yaml"):
        assert allowed(state, me, READ, gcs_object(state, uri)), uri
    lease = gcs_object(state, f"{dep.pipeline_root}/trigger-leases/dev-weekly-retrain.json")
    for permission in (READ, *WRITE):
        assert allowed(state, me, permission, lease), permission
    # Nothing else of the pipeline root: not the runs' folders, not a folder named like it.
    for uri in (
        f"{dep.pipeline_root}/123/churn-training/train/metrics.json",
        f"{dep.pipeline_root}/trigger-leases-old/x.json",
        f"{dep.pipeline_root}/x/trigger-leases/y.json",
    ):
        held = permissions(state, me, gcs_object(state, uri))
        assert not {p for p in held if p.startswith("storage.")}, (uri, held)
    root_bucket = gcs_bucket(state, dep.pipeline_root.removeprefix("gs://").split("/")[0])
    assert not allowed(state, me, "storage.objects.list", root_bucket)
    for location in dep.locations.values():
        held = permissions(state, me, gcs_object(state, f"{location}/x"))
        assert not {p for p in held if p.startswith("storage.")}, location
    vertex = {p for p in permissions(state, me, project(dep.project)) if p.startswith("aipl")}
    assert vertex == {
        "aiplatform.pipelineJobs.create",
        "aiplatform.pipelineJobs.get",
        "aiplatform.pipelineJobs.list",
    }
    pipelines = dep.service_accounts["pipelines"]
    assert allowed(
        state,
        me,
        "iam.serviceAccounts.actAs",
        under_project(pipelines, dep.project, "accounts", pipelines),
    )


def test_invoker_can_only_invoke_the_trigger(set_up):
    dep, state = set_up
    me = _members(dep)["invoker"]
    service = under_project(
        "trigger service", dep.project, "run_services", f"{dep.region}/churn-trigger"
    )
    assert permissions(state, me, service) == {"run.routes.invoke"}
    everything = [project(dep.project)]
    everything += [gcs_bucket(state, b) for b in state["buckets"]]
    everything += [gcs_object(state, f"gs://{b}/any/object") for b in state["buckets"]]
    everything += [
        under_project(email, dep.project, "accounts", email)
        for email in state["projects"][dep.project]["accounts"]
    ]
    for resource in everything:
        assert permissions(state, me, resource) == set(), resource.label


def test_a_resource_condition_alone_would_not_grant_dataproc_permissions():
    """Why Dataproc Worker is split: its conditional binding never grants outside Storage."""
    expression = iam_cel.parse(
        'resource.service == "storage.googleapis.com" && '
        '!resource.name.startsWith("projects/_/buckets/t/")'
    )
    assert expression.grants({}) is False  # Dataproc, Monitoring: no resource attributes
    negated = iam_cel.parse('!resource.name.startsWith("projects/_/buckets/t/")')
    assert negated.grants({}) is False  # even a pure exclusion grants nothing there
