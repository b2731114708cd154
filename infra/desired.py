"""What one environment needs in Google Cloud, derived from its `Environment` (pure logic).

Identity model (contract/environment.py): one account, `service_accounts.pipelines`, runs the
PipelineJobs and is the Dataproc batches' service account. On runtime 3.0+ the Spark workload
uses the batch creator's credentials (END_USER_CREDENTIALS), and the creator is the pipeline's
step, i.e. the same account; on 2.x it uses the batch's service account, again the same account.
So every data grant below goes to `pipelines`, whichever runtime a template requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from contract.environment import Environment, bucket_of
from infra.conditions import Condition, outside_bucket, under_prefix

#: APIs a first deployment calls, each with the reason it is enabled.
APIS: dict[str, str] = {
    "aiplatform.googleapis.com": "Vertex AI Pipelines runs the PipelineJobs",
    "dataproc.googleapis.com": "Dataproc Serverless runs the Spark steps",
    # "Spark runtime version 3.0 components" (Serverless for Apache Spark): "New
    # dataprocrm.googleapis.com API enablement is required"; the Dataproc Resource Manager roles
    # (roles/dataprocrm.*) and audit logs name the same service.
    "dataprocrm.googleapis.com": "runtime 3.0 batches need the Dataproc Resource Manager API",
    "cloudscheduler.googleapis.com": "Cloud Scheduler fires the schedules",
    "cloudfunctions.googleapis.com": "the trigger is a Cloud Run function (2nd gen)",
    "run.googleapis.com": "2nd gen functions are served by Cloud Run",
    "cloudbuild.googleapis.com": "Cloud Build builds function deploys and the components image",
    "artifactregistry.googleapis.com": "the components image and function builds live there",
    "storage.googleapis.com": "templates, Spark code, data, models, predictions, run folders",
    "iam.googleapis.com": "service accounts and their policies",
    "iamcredentials.googleapis.com": "OIDC tokens for Cloud Scheduler, access tokens for act-as",
    "compute.googleapis.com": "the Dataproc subnetwork and its firewall rule",
    "logging.googleapis.com": "steps, batches and the trigger write logs",
    "bigquery.googleapis.com": "the warehouse tables (predictions, model metrics)",
}

#: APIs only an environment with `alerts.pubsub_topic` needs. Pub/Sub is not among the APIs a
#: new project has enabled, and nothing else here uses it: an environment without alerts keeps
#: it off (one API less to secure), as it gets no BigQuery role without a dataset.
ALERTS_APIS: dict[str, str] = {
    "pubsub.googleapis.com": "failure alerts are published to the environment's topic",
}
#: Who publishes failure alerts (on the topic only, never project-wide): account key, role, why.
TOPIC_PUBLISHERS: tuple[tuple[str, str, str], ...] = (
    (
        "pipelines",
        "roles/pubsub.publisher",
        "the pipelines' notify-failure step publishes run_failed alerts",
    ),
    (
        "trigger",
        "roles/pubsub.publisher",
        "the trigger publishes fire_without_run alerts (a scheduled fire that started no run)",
    ),
)


@dataclass(frozen=True)
class CustomRole:
    """A project-level custom role the setup creates (describe, then create or update).

    `permissions` are fixed; or, with `derived_from`, they are the named predefined role's
    permissions as `gcloud iam roles describe` reports them at setup time, minus those starting
    with one of `without` (so a permission Google adds to that role reaches the custom one on
    the next run).
    """

    role_id: str
    title: str
    description: str
    permissions: tuple[str, ...] = ()
    derived_from: str = ""
    without: tuple[str, ...] = ()

    def name(self, project: str) -> str:
        """The role's resource name, as a binding names it."""
        return f"projects/{project}/roles/{self.role_id}"

    def wanted(self, source: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
        """Its permissions, sorted; `source` = the predefined role's (when derived)."""
        chosen = self.permissions or tuple(p for p in source if not p.startswith(self.without))
        return tuple(sorted(set(chosen)))


#: What the trigger calls (trigger/gcp_clients.py: CreatePipelineJob, GetPipelineJob,
#: ListPipelineJobs) and nothing else of Vertex AI; Vertex AI's "Access control with IAM" page
#: recommends custom roles for exactly this. Acting as the pipelines account is granted on that
#: account (ACT_AS), not here.
TRIGGER_ROLE = CustomRole(
    "churnTrigger",
    "churn trigger",
    "Creates, gets and lists Vertex AI PipelineJobs (the churn trigger function)",
    permissions=(
        "aiplatform.pipelineJobs.create",
        "aiplatform.pipelineJobs.get",
        "aiplatform.pipelineJobs.list",
    ),
)
#: Serverless for Apache Spark requires the batch's service account to hold Dataproc Worker
#: ("Serverless for Apache Spark service account"). That role also carries storage.objects.*
#: on every bucket of the project, the templates bucket included. An IAM condition cannot
#: narrow it in one binding: Dataproc and Cloud Monitoring do not recognize resource
#: attributes, so a resource condition would never grant their permissions (infra/conditions.py).
#: So the role is split: its non-storage permissions in this custom role, unconditionally; its
#: storage permissions through roles/dataproc.worker under a condition that leaves out the
#: templates bucket (CONDITIONAL_PROJECT_ROLES).
DATAPROC_WORKER_ROLE = CustomRole(
    "churnDataprocWorker",
    "churn Dataproc Worker without Cloud Storage",
    "roles/dataproc.worker without its storage permissions (granted apart under a condition)",
    derived_from="roles/dataproc.worker",
    without=("storage.",),
)
CUSTOM_ROLES: tuple[CustomRole, ...] = (DATAPROC_WORKER_ROLE, TRIGGER_ROLE)


@dataclass(frozen=True)
class Binding:
    """One role for one of the environment's accounts (its key in `service_accounts` and its
    e-mail) on one resource, why, and the condition it is granted under."""

    account: str
    email: str
    role: str
    why: str
    condition: Condition | None = None

    @property
    def member(self) -> str:
        """The account as an IAM member."""
        return f"serviceAccount:{self.email}"

    @property
    def key(self) -> tuple[str, str, str]:
        """The binding as policies are compared: member, role, condition expression ("" for
        none)."""
        return (self.member, self.role, self.condition.expression if self.condition else "")


def binding(
    dep: Environment, account: str, role: str, why: str, condition: Condition | None = None
) -> Binding:
    """`role` for `dep`'s `account` (a key of its `service_accounts`)."""
    return Binding(account, dep.service_accounts[account], role, why, condition)


#: Project-level roles per account (keys of `service_accounts`), each with its reason. A custom
#: role is named by its `CustomRole` (resolved to projects/P/roles/ID by `project_grants`).
PROJECT_ROLES: dict[str, dict[str | CustomRole, str]] = {
    "pipelines": {
        "roles/aiplatform.user": "pipeline steps use Vertex AI (metadata, GCPC launchers)",
        "roles/dataproc.editor": "the Spark steps create Dataproc Serverless batches",
        DATAPROC_WORKER_ROLE: "it is the batches' service account: Dataproc Worker's Dataproc, "
        "logging and monitoring permissions",
        "roles/logging.logWriter": "pipeline steps and Spark batches write their logs",
    },
    "trigger": {
        TRIGGER_ROLE: "the trigger creates, gets and lists PipelineJobs (nothing else of Vertex)",
    },
    "invoker": {},
}
#: Dataproc Worker's Cloud Storage permissions (the staging and temp buckets Dataproc creates
#: for 2.x runtimes), on every bucket of the project but the templates bucket.
WORKER_STORAGE_WHY = (
    "Dataproc Worker's Cloud Storage permissions (Dataproc's staging and temp buckets), on "
    "every bucket but the templates bucket"
)

#: Project roles only an environment with a `bigquery_dataset` needs: the warehouse steps run
#: load and query jobs, and BigQuery creates jobs in a project, not in a dataset.
BIGQUERY_PROJECT_ROLES: dict[str, dict[str, str]] = {
    "pipelines": {
        "roles/bigquery.jobUser": "warehouse steps run load and query (MERGE) jobs",
    },
}
#: The dataset-level grant (on the environment's dataset only, never project-wide).
BIGQUERY_DATASET_ROLE = (
    "pipelines",
    "roles/bigquery.dataEditor",
    "warehouse steps create and load the tables of this dataset",
)

#: Account-level grants: (account that is acted as, account that acts, role, why).
ACT_AS: tuple[tuple[str, str, str, str], ...] = (
    (
        "pipelines",
        "trigger",
        "roles/iam.serviceAccountUser",
        "the trigger creates PipelineJobs that run as the pipelines account",
    ),
    (
        "pipelines",
        "pipelines",
        "roles/iam.serviceAccountUser",
        "pipeline steps create Dataproc batches whose service account is this same account",
    ),
)

#: What each account is for, as its description in IAM says.
ACCOUNT_PURPOSE: dict[str, str] = {
    "pipelines": "Runs the churn PipelineJobs and is the Dataproc batches service account",
    "invoker": "Cloud Scheduler calls the churn trigger with this OIDC identity",
    "trigger": "Runtime identity of the churn trigger function (creates PipelineJobs)",
}

#: The Artifact Registry docker repository of the components image (ci.md, issue 9 A9).
REPOSITORY = "churn"
REPOSITORY_ROLE = ("pipelines", "roles/artifactregistry.reader", "pulls the components image")

#: Name of the trigger function (and of the Cloud Run service behind it) when trigger_url
#: does not name it.
DEFAULT_FUNCTION = "churn-trigger"
INVOKER_ROLE = "roles/run.invoker"

OBJECT_VIEWER = "roles/storage.objectViewer"
OBJECT_USER = "roles/storage.objectUser"
#: Stronger roles rank higher: where one bucket serves two purposes, the stronger one wins.
_STRENGTH = {OBJECT_VIEWER: 1, OBJECT_USER: 2}

#: What each account needs on each kind of location, and why. Only the deploy account (ci/) can
#: write the templates bucket: the runtime accounts read it.
_BUCKET_NEEDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "templates": (
        (
            "pipelines",
            OBJECT_VIEWER,
            "runs read the published Spark code (the deploy account alone writes it)",
        ),
        ("trigger", OBJECT_VIEWER, "the trigger reads the published templates and latest"),
    ),
    "pipeline_root": (("pipelines", OBJECT_USER, "every run writes its working folder there"),),
    "location:data": (("pipelines", OBJECT_VIEWER, "Spark reads raw snapshots and customers"),),
    "location:predictions": (("pipelines", OBJECT_USER, "scoring writes predictions"),),
    "location:models": (("pipelines", OBJECT_USER, "training writes models, scoring reads"),),
}
#: Where the trigger keeps its max_concurrent_runs leases: trigger/settings.py's LEASE_ROOT
#: default, `<PIPELINE_ROOT>/trigger-leases` (the deploy command leaves LEASE_ROOT unset).
LEASE_FOLDER = "trigger-leases"
LEASE_WHY = (
    "the trigger reads and conditionally rewrites its concurrency leases (get, insert if "
    "generation matches); only those objects"
)

DEFAULT_NETWORK = "churn"
DEFAULT_SUBNET_RANGE = "10.8.0.0/20"


def apis(dep: Environment) -> dict[str, str]:
    """The APIs `dep` needs enabled, each with its reason (Pub/Sub only with alerts)."""
    return {**APIS, **(ALERTS_APIS if dep.alerts_topic_id else {})}


def project_grants(dep: Environment) -> list[Binding]:
    """Project-level grants of `dep` (BigQuery's only with a dataset), custom roles resolved."""
    grants = [
        binding(dep, key, role.name(dep.project) if isinstance(role, CustomRole) else role, why)
        for key, roles in PROJECT_ROLES.items()
        for role, why in roles.items()
    ]
    if dep.bigquery_dataset:
        grants += [
            binding(dep, key, role, why)
            for key, roles in BIGQUERY_PROJECT_ROLES.items()
            for role, why in roles.items()
        ]
    outside = outside_bucket(bucket_of(dep.template_base))
    grants.append(binding(dep, "pipelines", "roles/dataproc.worker", WORKER_STORAGE_WHY, outside))
    return grants


def lease_root(dep: Environment) -> str:
    """The gs:// folder of the trigger's leases (its LEASE_ROOT default)."""
    return f"{dep.pipeline_root}/{LEASE_FOLDER}"


def member(email: str) -> str:
    """The IAM member string of a service account."""
    return f"serviceAccount:{email}"


def bucket_grants(dep: Environment) -> dict[str, list[Binding]]:
    """Every bucket of `dep` with exactly the grants it needs (merged where buckets are shared)."""
    chosen: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for what, bucket in dep.buckets().items():
        for account, role, why in _BUCKET_NEEDS[what]:
            key = (bucket, account)
            current = chosen.get(key)
            if current is None:
                chosen[key] = (role, [why])
            else:
                best = role if _STRENGTH[role] > _STRENGTH[current[0]] else current[0]
                chosen[key] = (best, [*current[1], why])
    grants: dict[str, list[Binding]] = {bucket: [] for bucket in dep.buckets().values()}
    for (bucket, account), (role, whys) in sorted(chosen.items()):
        grants[bucket].append(binding(dep, account, role, "; ".join(whys)))
    bucket, leases = _lease_grant(dep)
    held = chosen.get((bucket, leases.account))
    if held is None or _STRENGTH[held[0]] < _STRENGTH[leases.role]:
        grants[bucket].append(leases)
    return dict(sorted(grants.items()))


def _lease_grant(dep: Environment) -> tuple[str, Binding]:
    """The bucket of the trigger's leases, and its grant there (on the lease folder only)."""
    bucket, _, prefix = lease_root(dep).removeprefix("gs://").partition("/")
    condition = under_prefix(bucket, prefix)
    return bucket, binding(dep, "trigger", OBJECT_USER, LEASE_WHY, condition)


#: Cloud Run service URLs: `https://SERVICE-PROJECT_NUMBER.REGION.run.app`, or the older
#: `https://SERVICE-HASH-REGIONCODE.a.run.app` (Cloud Run "Service URLs"); a 2nd gen function's
#: service has the function's name.
_RUN_URL = re.compile(
    r"^(?P<name>[a-z](?:[-a-z0-9]*[a-z0-9])?)-(?:[0-9]+\.[a-z]+-[a-z]+[0-9]+|[a-z0-9]{10}-[a-z]{2}\.a)"
    r"\.run\.app$"
)


def function_name(trigger_url: str) -> str:
    """The trigger function's name: its Cloud Run URL's service, or the path of a
    cloudfunctions.net URL; else the default."""
    parsed = urlparse(trigger_url or "")
    host = parsed.hostname or ""
    run = _RUN_URL.match(host)
    if run:
        return run.group("name")
    name = parsed.path.strip("/")
    if host.endswith(".cloudfunctions.net") and name:
        return name
    return DEFAULT_FUNCTION


def account_id(email: str) -> str:
    """The account id (the part before '@') of a service account e-mail."""
    return email.split("@", 1)[0]


def firewall_rule_name(subnetwork: str) -> str:
    """The name of the firewall rule that opens `subnetwork` to itself (at most 63 chars)."""
    return f"{subnetwork[:40]}-allow-internal-ingress"
