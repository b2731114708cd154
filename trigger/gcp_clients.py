"""The function's I/O: reading templates from GCS, creating PipelineJobs with the GAPIC client.

Cold start matters, so the heavy libraries are imported on first use, and only the parts the
function calls: `google.cloud.aiplatform_v1/__init__` imports every service and type of the API
(~3 s); `import_pipeline_service()` loads the PipelineService client and its types alone (~0.5 s).
Google Cloud errors are mapped to `TriggerError`s here: transient ones become 503 so Cloud
Scheduler retries the delivery (the job id makes the retry safe).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from typing import Any

from template_store import ObjectNotFoundError, Template
from trigger_request import TriggerError

_AIP = "google.cloud.aiplatform_v1"

#: gRPC status names that a later retry may well succeed on.
TRANSIENT = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "UNKNOWN"}
)
#: Job states that still occupy a slot of max_concurrent_runs.
FINISHED_STATES = ("PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED")


def import_pipeline_service() -> tuple[Any, Any, Any, Any]:
    """(client class, grpc transport class, pipeline_job module, pipeline_service module).

    Registers `google.cloud.aiplatform_v1` and its `types` package as bare packages (their
    `__path__` without running their `__init__`), then imports the PipelineService modules only.
    Falls back to the plain import if that is impossible (the package was already imported, or a
    library upgrade moved things).
    """
    stubbed = []
    for name in (_AIP, f"{_AIP}.types"):
        if name not in sys.modules:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.submodule_search_locations is None:
                break
            sys.modules[name] = importlib.util.module_from_spec(spec)
            stubbed.append(name)
    try:
        from google.cloud.aiplatform_v1.services.pipeline_service.client import (
            PipelineServiceClient,
        )
        from google.cloud.aiplatform_v1.services.pipeline_service.transports.grpc import (
            PipelineServiceGrpcTransport,
        )
        from google.cloud.aiplatform_v1.types import pipeline_job, pipeline_service
    except ImportError:
        for name in stubbed:
            sys.modules.pop(name, None)
        from google.cloud.aiplatform_v1 import PipelineServiceClient
        from google.cloud.aiplatform_v1.services.pipeline_service.transports.grpc import (
            PipelineServiceGrpcTransport,
        )
        from google.cloud.aiplatform_v1.types import pipeline_job, pipeline_service
    return PipelineServiceClient, PipelineServiceGrpcTransport, pipeline_job, pipeline_service


def _status_of(err: Exception) -> str:
    code = getattr(err, "grpc_status_code", None)
    return code.name if code is not None else type(err).__name__


def upstream_error(err: Exception, doing: str) -> TriggerError:
    """A Google API error while `doing` something, as the answer Cloud Scheduler should get."""
    from google.api_core import exceptions as gexc

    if isinstance(err, gexc.GoogleAPICallError):
        status = _status_of(err)
        transient = status in TRANSIENT or isinstance(err, gexc.ServerError | gexc.TooManyRequests)
        if transient:
            return TriggerError(503, f"{doing}: {status} {err.message} (retry later)", "transient")
        return TriggerError(502, f"{doing}: {status} {err.message}", "error")
    if isinstance(err, gexc.RetryError | ConnectionError | TimeoutError | OSError):
        return TriggerError(503, f"{doing}: {err} (retry later)", "transient")
    return TriggerError(500, f"{doing}: {type(err).__name__}: {err}", "error")


class GcsReader:
    """`read(bucket, path) -> bytes` over google-cloud-storage (honours STORAGE_EMULATOR_HOST)."""

    def __init__(self, project: str | None, timeout: float) -> None:
        from google.cloud import storage

        self._client = storage.Client(project=project)
        self._timeout = timeout

    def __call__(self, bucket: str, path: str) -> bytes:
        from google.api_core import exceptions as gexc
        from google.cloud.storage.retry import DEFAULT_RETRY

        blob = self._client.bucket(bucket).blob(path)
        try:
            return blob.download_as_bytes(
                timeout=self._timeout, retry=DEFAULT_RETRY.with_timeout(self._timeout)
            )
        except gexc.NotFound:
            raise ObjectNotFoundError(f"gs://{bucket}/{path}") from None
        except Exception as err:
            raise upstream_error(err, f"reading gs://{bucket}/{path}") from None


class LeaseStore:
    """Lease objects (see `lease.py`) through `contract.conditional`: read with their generation
    and creation time, written only if unchanged."""

    def __init__(self, project: str | None, timeout: float) -> None:
        from google.cloud import storage

        from contract import conditional

        self._conditional = conditional
        self._client = storage.Client(project=project)
        # Retried within the RPC timeout, not the shared 30 s: Cloud Scheduler's attempt
        # deadline bounds the whole call, and the 503 it gets then makes it deliver again.
        self._retry = conditional.DEFAULT_RETRY.with_deadline(timeout, timeout)

    def _object(self, bucket: str, path: str) -> Any:
        return self._conditional.ConditionalObject(self._client, bucket, path, self._retry)

    def read(self, bucket: str, path: str) -> tuple[bytes | None, int, float | None]:
        """(content, generation, server time the generation was created, epoch seconds) of the
        object; (None, 0, None) when it does not exist."""
        try:
            snapshot = self._object(bucket, path).read()
        except self._conditional.ChangingError as err:
            raise TriggerError(503, f"{err} (retry later)", "transient") from None
        except Exception as err:
            raise upstream_error(err, f"reading the lease gs://{bucket}/{path}") from None
        # `timeCreated`, not `updated`: each write makes a new generation whose creation time
        # Cloud Storage sets, while `updated` also moves on a metadata patch ("Objects"
        # resource, https://cloud.google.com/storage/docs/json_api/v1/objects).
        created = snapshot.created.timestamp() if snapshot.created else None
        return snapshot.data, snapshot.generation, created

    def write(self, bucket: str, path: str, data: bytes, generation: int) -> bool:
        """Replace the object if it is still at `generation` (0: absent); False if it is not."""
        try:
            return self._object(bucket, path).write(data, generation) is not None
        except Exception as err:
            raise upstream_error(err, f"writing the lease gs://{bucket}/{path}") from None


@dataclass(frozen=True)
class JobRequest:
    """Everything one CreatePipelineJob carries, decided before any call is made."""

    job_id: str
    template: Template
    parameter_values: dict[str, Any]
    labels: dict[str, str]
    pipeline_root: str
    service_account: str
    network: str | None


class Vertex:
    """The PipelineService calls the function makes, under one project and region."""

    def __init__(
        self, project: str, region: str, emulator_host: str | None, timeout: float
    ) -> None:
        client_cls, transport_cls, self._pj, self._ps = import_pipeline_service()
        if emulator_host:
            import grpc

            transport = transport_cls(channel=grpc.insecure_channel(emulator_host))
            self._client = client_cls(transport=transport)
        else:
            self._client = client_cls(
                client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"}
            )
        self.parent = f"projects/{project}/locations/{region}"
        self._timeout = timeout

    def job_name(self, job_id: str) -> str:
        """The full resource name a job id has under this project and region."""
        return f"{self.parent}/pipelineJobs/{job_id}"

    def active_runs(self, labels: dict[str, str], enough: int) -> list[str]:
        """Names of jobs with all `labels` not finished yet; stops once `enough` are found."""
        # Only '=', '!=' and AND, which the ListPipelineJobs docs promise for these fields.
        conditions = [f'labels.{key}="{value}"' for key, value in sorted(labels.items())]
        conditions += [f'state!="{state}"' for state in FINISHED_STATES]
        request = self._ps.ListPipelineJobsRequest(
            parent=self.parent,
            filter=" AND ".join(conditions),
            page_size=min(max(enough, 1), 100),
            read_mask={"paths": ["name", "state"]},
        )
        names: list[str] = []
        try:
            for job in self._client.list_pipeline_jobs(
                request=request, retry=None, timeout=self._timeout
            ):
                names.append(job.name)
                if len(names) >= enough:
                    break
        except Exception as err:
            raise upstream_error(err, "listing running jobs of the schedule") from None
        return names

    def create(self, req: JobRequest) -> tuple[str, bool]:
        """Create the job: (its name, True), or (name, False) when the id exists already."""
        from google.api_core import exceptions as gexc

        pj = self._pj
        job = pj.PipelineJob(
            display_name=req.job_id,
            pipeline_spec=self._spec_struct(req.template),
            labels=req.labels,
            runtime_config=pj.PipelineJob.RuntimeConfig(
                gcs_output_directory=req.pipeline_root,
                parameter_values=req.parameter_values,
            ),
            service_account=req.service_account,
            network=req.network or "",
        )
        try:
            # No client-side retry: Cloud Scheduler retries the whole delivery on a 503, within
            # its own attempt deadline, and the fixed job id makes that safe.
            created = self._client.create_pipeline_job(
                parent=self.parent,
                pipeline_job=job,
                pipeline_job_id=req.job_id,
                retry=None,
                timeout=self._timeout,
            )
        except gexc.AlreadyExists:
            return self.job_name(req.job_id), False
        except Exception as err:
            raise upstream_error(err, "creating the PipelineJob") from None
        return created.name, True

    def unfinished(self, names: list[str]) -> set[str]:
        """Which of `names` are not known to be finished: not found yet, still running, or not
        readable right now (a slot is only freed on evidence that its job ended)."""
        out = set()
        for name in names:
            try:
                job = self._client.get_pipeline_job(name=name, retry=None, timeout=self._timeout)
            except Exception:  # NotFound (being created) or unreadable: keep the slot
                out.add(name)
                continue
            if getattr(job.state, "name", str(job.state)) not in FINISHED_STATES:
                out.add(name)
        return out

    def exists(self, name: str) -> bool | None:
        """Whether the job `name` exists: True, False (NOT_FOUND), or None when that cannot be
        told right now (any other error)."""
        from google.api_core import exceptions as gexc

        try:
            self._client.get_pipeline_job(name=name, retry=None, timeout=self._timeout)
        except gexc.NotFound:
            return False
        except Exception:
            return None
        return True

    def state_of(self, name: str) -> str | None:
        """The job's state name, or None if it cannot be read right now (informational only)."""
        try:
            job = self._client.get_pipeline_job(name=name, retry=None, timeout=self._timeout)
        except Exception:
            return None
        return getattr(job.state, "name", str(job.state))

    @staticmethod
    def _spec_struct(template: Template) -> Any:
        # Converting the spec dict to a protobuf Struct costs milliseconds; once per template.
        struct = template.derived.get("struct")
        if struct is None:
            from google.protobuf import struct_pb2

            struct = struct_pb2.Struct()
            struct.update(template.spec)
            template.derived["struct"] = struct
        return struct
