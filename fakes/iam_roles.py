"""Predefined roles the setup grants, with the permissions Google's IAM roles reference lists.

Copied from the IAM "roles and permissions" reference pages, one per service:
https://cloud.google.com/iam/docs/roles-permissions/<service> (dataproc, storage, aiplatform,
run, iam, logging, bigquery, artifactregistry, pubsub, cloudscheduler, cloudbuild,
secretmanager). Where a role is long, only the permission families that decide what an identity
can do to this project's data, code and jobs are copied, and each copy is the reference's
complete list for those families (`FAMILIES`); roles/dataproc.worker is copied whole, because the
setup derives a custom role from it. The fake gcloud answers `iam roles describe` from this
table and refuses custom-role permissions it does not know; tests/infra/test_least_privilege.py
evaluates the granted roles with it. Standard library only.
"""

from __future__ import annotations

#: The permission families copied completely for every role below.
FAMILIES = (
    "storage.",
    "aiplatform.pipelineJobs.",
    "dataproc.batches.",
    "dataproc.agents.",
    "dataproc.tasks.",
    "iam.serviceAccounts.",
    "run.routes.",
    "pubsub.topics.",
    "secretmanager.versions.",
    "cloudscheduler.jobs.",
    "artifactregistry.repositories.",
)

#: roles/dataproc.worker, complete ("Dataproc roles and permissions").
DATAPROC_WORKER = (
    "cloudprofiler.profiles.create",
    "cloudprofiler.profiles.update",
    "dataproc.agents.create",
    "dataproc.agents.delete",
    "dataproc.agents.get",
    "dataproc.agents.list",
    "dataproc.agents.update",
    "dataproc.tasks.lease",
    "dataproc.tasks.listInvalidatedLeases",
    "dataproc.tasks.reportStatus",
    "dataprocrm.nodes.mintOAuthToken",
    "logging.logEntries.create",
    "logging.logEntries.route",
    "monitoring.metricDescriptors.create",
    "monitoring.metricDescriptors.get",
    "monitoring.metricDescriptors.list",
    "monitoring.monitoredResourceDescriptors.get",
    "monitoring.monitoredResourceDescriptors.list",
    "monitoring.timeSeries.create",
    "storage.buckets.get",
    "storage.managedFolders.create",
    "storage.managedFolders.delete",
    "storage.managedFolders.get",
    "storage.managedFolders.list",
    "storage.multipartUploads.abort",
    "storage.multipartUploads.create",
    "storage.multipartUploads.list",
    "storage.multipartUploads.listParts",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.objects.get",
    "storage.objects.getIamPolicy",
    "storage.objects.list",
    "storage.objects.overrideUnlockedRetention",
    "storage.objects.restore",
    "storage.objects.setIamPolicy",
    "storage.objects.setRetention",
    "storage.objects.update",
)

_OBJECT_VIEWER = (
    "storage.folders.get",
    "storage.folders.list",
    "storage.managedFolders.get",
    "storage.managedFolders.list",
    "storage.objects.get",
    "storage.objects.list",
)

#: role -> its permissions in `FAMILIES` (dataproc.worker: all of them).
ROLES: dict[str, frozenset[str]] = {
    "roles/dataproc.worker": frozenset(DATAPROC_WORKER),
    "roles/dataproc.editor": frozenset(
        {
            "dataproc.batches.cancel",
            "dataproc.batches.create",
            "dataproc.batches.delete",
            "dataproc.batches.get",
            "dataproc.batches.list",
        }
    ),
    # Vertex AI roles: no storage.* permission; every aiplatform.pipelineJobs.* one.
    "roles/aiplatform.user": frozenset(
        {
            "aiplatform.pipelineJobs.cancel",
            "aiplatform.pipelineJobs.create",
            "aiplatform.pipelineJobs.delete",
            "aiplatform.pipelineJobs.get",
            "aiplatform.pipelineJobs.list",
        }
    ),
    "roles/storage.objectViewer": frozenset(_OBJECT_VIEWER),
    "roles/storage.objectCreator": frozenset(
        {
            "storage.folders.create",
            "storage.managedFolders.create",
            "storage.multipartUploads.abort",
            "storage.multipartUploads.create",
            "storage.multipartUploads.listParts",
            "storage.objects.create",
            "storage.objects.createContext",
        }
    ),
    "roles/storage.objectUser": frozenset(
        {
            "storage.folders.create",
            "storage.folders.delete",
            "storage.folders.get",
            "storage.folders.list",
            "storage.folders.rename",
            "storage.managedFolders.create",
            "storage.managedFolders.delete",
            "storage.managedFolders.get",
            "storage.managedFolders.list",
            "storage.multipartUploads.abort",
            "storage.multipartUploads.create",
            "storage.multipartUploads.list",
            "storage.multipartUploads.listParts",
            "storage.objects.create",
            "storage.objects.delete",
            "storage.objects.get",
            "storage.objects.list",
            "storage.objects.move",
            "storage.objects.restore",
            "storage.objects.update",
        }
    ),
    "roles/iam.serviceAccountUser": frozenset(
        {"iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list"}
    ),
    "roles/run.invoker": frozenset({"run.routes.invoke"}),
    "roles/pubsub.publisher": frozenset({"pubsub.topics.publish"}),
    # No permission of FAMILIES in these (logs, BigQuery jobs and tables, images, builds):
    "roles/logging.logWriter": frozenset(),
    "roles/bigquery.jobUser": frozenset(),
    "roles/bigquery.dataEditor": frozenset(),
    "roles/artifactregistry.reader": frozenset(
        {
            "artifactregistry.repositories.downloadArtifacts",
            "artifactregistry.repositories.get",
            "artifactregistry.repositories.list",
            "artifactregistry.repositories.listEffectiveTags",
            "artifactregistry.repositories.listTagBindings",
            "artifactregistry.repositories.readViaVirtualRepository",
        }
    ),
    "roles/artifactregistry.writer": frozenset(
        {
            "artifactregistry.repositories.downloadArtifacts",
            "artifactregistry.repositories.get",
            "artifactregistry.repositories.list",
            "artifactregistry.repositories.listEffectiveTags",
            "artifactregistry.repositories.listTagBindings",
            "artifactregistry.repositories.readViaVirtualRepository",
            "artifactregistry.repositories.uploadArtifacts",
        }
    ),
    "roles/cloudbuild.builds.viewer": frozenset(),
    "roles/cloudscheduler.admin": frozenset(
        {
            "cloudscheduler.jobs.create",
            "cloudscheduler.jobs.delete",
            "cloudscheduler.jobs.enable",
            "cloudscheduler.jobs.fullView",
            "cloudscheduler.jobs.get",
            "cloudscheduler.jobs.list",
            "cloudscheduler.jobs.pause",
            "cloudscheduler.jobs.run",
            "cloudscheduler.jobs.update",
        }
    ),
    "roles/cloudscheduler.viewer": frozenset(
        {"cloudscheduler.jobs.fullView", "cloudscheduler.jobs.get", "cloudscheduler.jobs.list"}
    ),
    "roles/secretmanager.secretAccessor": frozenset({"secretmanager.versions.access"}),
    # Workload Identity Federation: lets a federated principal act as the account.
    "roles/iam.workloadIdentityUser": frozenset(
        {
            "iam.serviceAccounts.get",
            "iam.serviceAccounts.getAccessToken",
            "iam.serviceAccounts.getOpenIdToken",
            "iam.serviceAccounts.list",
        }
    ),
}

#: Permissions a custom role may hold in the fake: the reference's permissions of the roles
#: above (a custom role is built from them here), so a misspelt one is refused.
KNOWN_PERMISSIONS = frozenset().union(*ROLES.values())
