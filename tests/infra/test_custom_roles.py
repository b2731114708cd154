"""Custom roles and conditional bindings: created before use, kept current, old grants reported."""

from __future__ import annotations

from fakes import iam_roles
from infra import desired
from infra.gcloud import Looked
from infra.roles import custom_role
from infra.step import Update
from tests.infra.conftest import fake_gcloud, run_steps

PROJECT = "acme-churn-dev"
PIPELINES = "serviceAccount:churn-pipelines@acme-churn-dev.iam.gserviceaccount.com"
TRIGGER = "serviceAccount:churn-trigger@acme-churn-dev.iam.gserviceaccount.com"
WORKER_ROLE = f"projects/{PROJECT}/roles/churnDataprocWorker"


def test_first_run_creates_both_roles_before_any_binding_names_them(runs):
    first = runs.first()
    assert first.code == 0, first.err
    roles = first.state["projects"][PROJECT]["roles"]
    non_storage = sorted(p for p in iam_roles.DATAPROC_WORKER if not p.startswith("storage."))
    assert roles["churnDataprocWorker"]["includedPermissions"] == non_storage
    assert roles["churnTrigger"]["includedPermissions"] == [
        "aiplatform.pipelineJobs.create",
        "aiplatform.pipelineJobs.get",
        "aiplatform.pipelineJobs.list",
    ]
    assert {r["stage"] for r in roles.values()} == {"GA"}
    calls = [e["argv"] for e in first.log]
    created = max(i for i, a in enumerate(calls) if a[:3] == ["iam", "roles", "create"])
    bound = min(i for i, a in enumerate(calls) if a[:2] == ["projects", "add-iam-policy-binding"])
    assert created < bound


def test_a_custom_role_someone_changed_or_deleted_is_put_back(set_up):
    cloud = set_up

    def drift(state):
        roles = state["projects"][PROJECT]["roles"]
        roles["churnTrigger"]["includedPermissions"].append("aiplatform.pipelineJobs.delete")
        roles["churnDataprocWorker"]["deleted"] = True

    cloud.edit(drift)
    _, out = run_steps(cloud, "custom role")
    roles = cloud.state["projects"][PROJECT]["roles"]
    assert "aiplatform.pipelineJobs.delete" not in roles["churnTrigger"]["includedPermissions"]
    assert roles["churnDataprocWorker"]["deleted"] is False
    assert [a[:3] for a in cloud.changes()] == [
        ["iam", "roles", "undelete"],
        ["iam", "roles", "update"],
        ["iam", "roles", "update"],
    ]
    assert "-aiplatform.pipelineJobs.delete" in out


def test_the_worker_role_follows_dataproc_worker_as_google_changes_it():
    step = custom_role(PROJECT, desired.DATAPROC_WORKER_ROLE)
    now = [*iam_roles.DATAPROC_WORKER, "dataproc.newThing.use"]
    held = {
        "includedPermissions": [p for p in iam_roles.DATAPROC_WORKER if "storage." not in p],
        "stage": "GA",
    }
    looked = [Looked(True, {"includedPermissions": now}), Looked(True, held)]
    outcome = step.decide(dict(zip(step.looks({}), looked, strict=True)), {})
    assert outcome.word == "updated" and outcome.detail == "+dataproc.newThing.use"
    [update] = outcome.changes
    assert isinstance(update, Update)
    permissions = next(a for a in update.command.args if a.startswith("--permissions="))
    assert "dataproc.newThing.use" in permissions and "storage." not in permissions


def test_grants_of_the_old_setup_are_reported_with_the_command_that_removes_them(set_up):
    cloud = set_up

    def old_setup(state):
        project = state["projects"][PROJECT]
        project["policy"]["bindings"] += [
            {"role": "roles/dataproc.worker", "members": [PIPELINES]},
            {"role": "roles/aiplatform.user", "members": [TRIGGER]},
        ]
        state["buckets"]["acme-churn-dev-pipelines"]["policy"]["bindings"].append(
            {"role": "roles/storage.objectUser", "members": [TRIGGER]}
        )

    cloud.edit(old_setup)
    code, out, _ = cloud.bootstrap("--env", "dev")
    assert code == 0
    assert cloud.changes() == []  # never removed by the setup
    todo = out.split("Left to do by hand:")[1]
    assert (
        "churn-pipelines also holds roles/dataproc.worker on project acme-churn-dev, which this "
        "setup does not grant" in todo
    )
    assert (
        "gcloud projects remove-iam-policy-binding acme-churn-dev "
        f"--member={PIPELINES} --role=roles/dataproc.worker --condition=None" in todo
    )
    assert "churn-trigger also holds roles/aiplatform.user on project acme-churn-dev" in todo
    assert (
        "gcloud storage buckets remove-iam-policy-binding gs://acme-churn-dev-pipelines "
        f"--member={TRIGGER} --role=roles/storage.objectUser --condition=None" in todo
    )


def test_the_fake_refuses_what_iam_refuses(set_up):
    project = ["--project", PROJECT]
    unknown = fake_gcloud(
        "iam", "roles", "create", "x_role", *project, "--permissions=storage.objects.gett"
    )
    assert unknown.returncode == 1 and "storage.objects.gett is not valid" in unknown.stderr

    def on_project(role: str, condition: str):
        return fake_gcloud(
            "projects", "add-iam-policy-binding", PROJECT, f"--member={PIPELINES}", role, condition
        )

    missing = on_project(f"--role=projects/{PROJECT}/roles/notYetCreated", "--condition=None")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bucket = ["storage", "buckets", "add-iam-policy-binding", "gs://acme-churn-dev-pipelines"]
    member = [f"--member={TRIGGER}", "--role=roles/storage.objectViewer"]
    # The bucket now holds a conditional binding (the leases): a plain add must say None.
    plain = fake_gcloud(*bucket, *member)
    assert plain.returncode == 1 and "--condition=None" in plain.stderr
    untitled = fake_gcloud(*bucket, *member, '--condition=expression=resource.name == "x"')
    assert untitled.returncode == 2 and "title" in untitled.stderr
    invalid = fake_gcloud(*bucket, *member, "--condition=expression=resource.name ==,title=t")
    assert invalid.returncode == 1 and "INVALID_ARGUMENT" in invalid.stderr
    basic = on_project("--role=roles/owner", '--condition=expression=resource.name == "x",title=t')
    assert basic.returncode == 1 and "basic role" in basic.stderr
