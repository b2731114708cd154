"""A fake Cloud Scheduler v1 gRPC service, in process, built on the library's own message types.

The real `google.cloud.scheduler_v1.CloudSchedulerClient` talks to it over plain-text gRPC
(`SCHEDULER_EMULATOR_HOST=host:port`). It keeps the real API's semantics that matter to us:
ALREADY_EXISTS / NOT_FOUND / INVALID_ARGUMENT, name validation, paging, `update_mask`, the
server-set fields (state, user_update_time, schedule_time, default retry settings, the
User-Agent header), and it delivers jobs over HTTP the way Cloud Scheduler does.

    with running_scheduler() as (fake, host):
        fake.inject_fault("UpdateJob", grpc.StatusCode.UNAVAILABLE, times=2)
        ...
        fake.fire(job_name, schedule_time=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))

`python -m fakes.scheduler --port 8085` serves it until Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import re
import time
import urllib.parse
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc
from croniter import CroniterBadDateError, croniter
from google.cloud.scheduler_v1 import types
from google.protobuf import empty_pb2, field_mask_pb2, timestamp_pb2

from fakes.base import GrpcFake, Method, RpcError, serve, serve_until_interrupted

SERVICE = "google.cloud.scheduler.v1.CloudScheduler"
MAX_PAGE_SIZE = 500
_PARENT = re.compile(r"^projects/[A-Za-z0-9:.-]+/locations/[A-Za-z0-9-]+$")
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
#: Fields the server owns; an update_mask naming them is rejected.
_OUTPUT_ONLY = frozenset(
    {"name", "state", "status", "user_update_time", "schedule_time", "last_attempt_time"}
)
_JobPb = type(types.Job.pb(types.Job()))


@dataclass
class Delivery:
    """One HTTP call made for a job (RunJob or `fire`), with the response it got."""

    job: str
    schedule_time: datetime
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    response: bytes


@dataclass
class FakeScheduler(GrpcFake):
    """The service state and the deliveries made; served by `running_scheduler()`."""

    SERVICE: ClassVar[str] = SERVICE
    SERIALIZED: ClassVar[bool] = True

    jobs: dict[str, _JobPb] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)

    # -- test helpers -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget jobs and deliveries, calls, faults and latency."""
        with self.lock:
            super().reset()
            self.jobs.clear()
            self.deliveries.clear()

    def writes(self) -> int:
        """Calls that change state (Create, Update, Delete, Pause, Resume)."""
        return sum(
            self.calls[m] for m in ("CreateJob", "UpdateJob", "DeleteJob", "PauseJob", "ResumeJob")
        )

    def reset_calls(self) -> None:
        """Zero the call counters."""
        with self.lock:
            self.calls.clear()

    def job(self, name_or_id: str) -> types.Job | None:
        """A copy of a stored job by full name or by job id."""
        with self.lock:
            for name, pb in self.jobs.items():
                if name == name_or_id or name.rsplit("/", 1)[-1] == name_or_id:
                    return types.Job.wrap(_copy(pb))
        return None

    def fire(self, name_or_id: str, schedule_time: datetime | None = None) -> Delivery:
        """Deliver a job now, as Cloud Scheduler would at `schedule_time` (default: now)."""
        with self.lock:
            pb = self._find(name_or_id)
            pb = _copy(pb)
        when = (schedule_time or datetime.now(UTC)).astimezone(UTC)
        delivery = _deliver(pb, when)
        with self.lock:
            self.deliveries.append(delivery)
            stored = self.jobs.get(pb.name)
            if stored is not None:
                stored.last_attempt_time.CopyFrom(_ts(datetime.now(UTC)))
                stored.status.code, stored.status.message = attempt_status(delivery)
        return delivery

    # -- RPCs ---------------------------------------------------------------------------------

    def _find(self, name_or_id: str) -> _JobPb:
        if name_or_id in self.jobs:
            return self.jobs[name_or_id]
        for name, pb in self.jobs.items():
            if name.rsplit("/", 1)[-1] == name_or_id:
                return pb
        raise RpcError(grpc.StatusCode.NOT_FOUND, f"Job not found: {name_or_id}")

    def list_jobs(self, request: types.ListJobsRequest) -> types.ListJobsResponse:
        parent = request.parent
        _check_parent(parent)
        size = request.page_size if 0 < request.page_size <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
        after = ""
        if request.page_token:
            try:
                after = base64.urlsafe_b64decode(request.page_token.encode()).decode()
            except (ValueError, UnicodeDecodeError):
                raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Invalid page token") from None
            if not after.startswith(parent + "/jobs/"):
                raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Invalid page token")
        names = sorted(n for n in self.jobs if n.startswith(parent + "/jobs/") and n > after)
        page = names[:size]
        token = ""
        if len(names) > size:
            token = base64.urlsafe_b64encode(page[-1].encode()).decode()
        return types.ListJobsResponse(
            jobs=[types.Job.wrap(_copy(self.jobs[n])) for n in page], next_page_token=token
        )

    def get_job(self, request: types.GetJobRequest) -> types.Job:
        _check_name(request.name)
        return types.Job.wrap(_copy(self._find_exact(request.name)))

    def create_job(self, request: types.CreateJobRequest) -> types.Job:
        _check_parent(request.parent)
        pb = _copy(types.Job.pb(request.job))
        if not pb.name:
            pb.name = f"{request.parent}/jobs/job-{len(self.jobs) + 1}-{int(time.time())}"
        _check_name(pb.name)
        if not pb.name.startswith(request.parent + "/jobs/"):
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT, "Job name does not belong to the parent"
            )
        if pb.name in self.jobs:
            raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f"Job {pb.name} already exists")
        for output in ("status", "schedule_time", "last_attempt_time", "user_update_time"):
            pb.ClearField(output)
        _apply_defaults(pb)
        _check_job(pb)
        pb.state = types.Job.State.ENABLED
        _touch(pb)
        self.jobs[pb.name] = pb
        return types.Job.wrap(_copy(pb))

    def update_job(self, request: types.UpdateJobRequest) -> types.Job:
        incoming = types.Job.pb(request.job)
        _check_name(incoming.name)
        current = self._find_exact(incoming.name)
        paths = list(request.update_mask.paths) if request.update_mask else []
        if not paths:
            # AIP-134: no mask means every field the request sets (non-default values).
            paths = [f.name for f, _v in incoming.ListFields() if f.name not in _OUTPUT_ONLY]
        mask = field_mask_pb2.FieldMask(paths=paths)
        bad = [p for p in paths if p.split(".", 1)[0] in _OUTPUT_ONLY]
        if bad or not mask.IsValidForDescriptor(_JobPb.DESCRIPTOR):
            invalid = bad or [
                p
                for p in paths
                if not field_mask_pb2.FieldMask(paths=[p]).IsValidForDescriptor(_JobPb.DESCRIPTOR)
            ]
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Invalid update_mask path(s): {invalid}"
            )
        updated = _copy(current)
        mask.MergeMessage(
            incoming, updated, replace_message_field=True, replace_repeated_field=True
        )
        _apply_defaults(updated)
        _check_job(updated)
        if updated.state == types.Job.State.UPDATE_FAILED:
            updated.state = types.Job.State.ENABLED
        _touch(updated)
        self.jobs[updated.name] = updated
        return types.Job.wrap(_copy(updated))

    def delete_job(self, request: types.DeleteJobRequest) -> empty_pb2.Empty:
        _check_name(request.name)
        self._find_exact(request.name)
        del self.jobs[request.name]
        return empty_pb2.Empty()

    def pause_job(self, request: types.PauseJobRequest) -> types.Job:
        return self._set_state(request.name, types.Job.State.PAUSED)

    def resume_job(self, request: types.ResumeJobRequest) -> types.Job:
        return self._set_state(request.name, types.Job.State.ENABLED)

    def run_job(self, request: types.RunJobRequest) -> types.Job:
        _check_name(request.name)
        pb = self._find_exact(request.name)
        self.lock.release()  # deliver without holding the lock: the target may call us back
        try:
            self.fire(pb.name)
        finally:
            self.lock.acquire()
        return types.Job.wrap(_copy(self.jobs[pb.name]))

    def _find_exact(self, name: str) -> _JobPb:
        pb = self.jobs.get(name)
        if pb is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Job not found: {name}")
        return pb

    def _set_state(self, name: str, state: int) -> types.Job:
        _check_name(name)
        pb = self._find_exact(name)
        if pb.state == types.Job.State.DISABLED:
            raise RpcError(grpc.StatusCode.FAILED_PRECONDITION, "Job is disabled by the system")
        pb.state = state
        _touch(pb)
        return types.Job.wrap(_copy(pb))

    def fault_target(self, request) -> str:
        """Faults may name a job: the request's job name, also inside CreateJob/UpdateJob."""
        name = getattr(request, "name", "") or ""
        if not name and "job" in type(request).meta.fields:
            name = request.job.name
        return name

    def methods(self) -> dict[str, Method]:
        return {
            "ListJobs": Method.of(self.list_jobs, types.ListJobsRequest, types.ListJobsResponse),
            "GetJob": Method.of(self.get_job, types.GetJobRequest, types.Job),
            "CreateJob": Method.of(self.create_job, types.CreateJobRequest, types.Job),
            "UpdateJob": Method.of(self.update_job, types.UpdateJobRequest, types.Job),
            "DeleteJob": Method.of(self.delete_job, types.DeleteJobRequest, empty_pb2.Empty),
            "PauseJob": Method.of(self.pause_job, types.PauseJobRequest, types.Job),
            "ResumeJob": Method.of(self.resume_job, types.ResumeJobRequest, types.Job),
            "RunJob": Method.of(self.run_job, types.RunJobRequest, types.Job),
        }


def _copy(pb: _JobPb) -> _JobPb:
    out = _JobPb()
    out.CopyFrom(pb)
    return out


def _ts(when: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(when.astimezone(UTC).replace(tzinfo=None))
    return ts


def _check_parent(parent: str) -> None:
    if not _PARENT.match(parent or ""):
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Invalid parent '{parent}': expected projects/PROJECT_ID/locations/LOCATION_ID",
        )


def _check_name(name: str) -> None:
    parent, _, job_id = (name or "").rpartition("/jobs/")
    if not _PARENT.match(parent) or not _JOB_ID.match(job_id):
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Invalid job name '{name}': expected projects/P/locations/L/jobs/JOB_ID "
            "with JOB_ID of letters, digits, '-' or '_' (at most 500)",
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo("UTC" if not name or name.lower() == "utc" else name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "Schedule or time zone is invalid."
        ) from None


def _check_job(pb: _JobPb) -> None:
    if len(pb.description) > 500:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "description is longer than 500")
    target = pb.WhichOneof("target")
    if target is None:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "A job needs a target")
    if target == "http_target":
        if not pb.http_target.uri.startswith(("http://", "https://")):
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "http_target.uri must be http(s)")
        deadline = pb.attempt_deadline.seconds + pb.attempt_deadline.nanos / 1e9
        if not 15 <= deadline <= 1800:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT, "attempt_deadline must be between 15s and 30m"
            )
    if not 0 <= pb.retry_config.retry_count <= 5:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "retry_count must be between 0 and 5")
    fields = pb.schedule.split()
    if len(fields) != 5 or not croniter.is_valid(pb.schedule) or _never_fires(pb.schedule):
        # The service's own words, whichever of the two is wrong.
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "Schedule or time zone is invalid.")
    _zone(pb.time_zone)


def _never_fires(schedule: str) -> bool:
    """A cron with no next fire time at all (`0 3 31 2 *`): Cloud Scheduler refuses it."""
    try:
        croniter(schedule, datetime(2026, 1, 1)).get_next(datetime)
    except (CroniterBadDateError, ValueError, KeyError):
        return True
    return False


def _apply_defaults(pb: _JobPb) -> None:
    if not pb.HasField("retry_config"):
        pb.retry_config.min_backoff_duration.seconds = 5
        pb.retry_config.max_backoff_duration.seconds = 3600
        pb.retry_config.max_doublings = 5
    if not pb.HasField("attempt_deadline") and pb.WhichOneof("target") == "http_target":
        pb.attempt_deadline.seconds = 180
    if pb.WhichOneof("target") == "http_target":
        headers = pb.http_target.headers
        headers["User-Agent"] = "Google-Cloud-Scheduler"
        if pb.http_target.body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/octet-stream"


def _touch(pb: _JobPb) -> None:
    now = datetime.now(UTC)
    pb.user_update_time.CopyFrom(_ts(now))
    if pb.state == types.Job.State.ENABLED:
        tz = _zone(pb.time_zone)
        nxt = croniter(pb.schedule, now.astimezone(tz)).get_next(datetime)
        pb.schedule_time.CopyFrom(_ts(nxt))
    else:
        pb.ClearField("schedule_time")


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def oidc_token(service_account: str, audience: str, issued: datetime) -> str:
    """A JWT-shaped, unsigned OIDC token carrying the claims Google's tokens carry."""
    iat = int(issued.timestamp())
    claims = {
        "aud": audience,
        "azp": service_account,
        "email": service_account,
        "email_verified": True,
        "exp": iat + 3600,
        "iat": iat,
        "iss": "https://accounts.google.com",
        "sub": str(int(hashlib.sha256(service_account.encode()).hexdigest()[:16], 16)),
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


#: The usual HTTP -> google.rpc.Code mapping, for Job.status of an attempt the target refused.
_HTTP_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12,
               503: 14, 504: 4}  # fmt: skip


def attempt_status(delivery: Delivery) -> tuple[int, str]:
    """Job.status after an attempt: (google.rpc code, message); (0, "") when it got a 2xx."""
    if 200 <= delivery.status < 300:
        return 0, ""
    if delivery.status == 0:  # no answer at all: connection refused, timeout
        return 14, f"no response from {delivery.url}: {delivery.response.decode(errors='replace')}"
    code = _HTTP_CODES.get(delivery.status, 9 if delivery.status < 500 else 13)
    detail = delivery.response.decode("utf-8", errors="replace")[:300]
    return code, f"HTTP {delivery.status}: {detail}"


def _deliver(pb: _JobPb, schedule_time: datetime) -> Delivery:
    target = pb.http_target
    job_id = pb.name.rsplit("/", 1)[-1]
    headers = dict(target.headers)
    headers.update(
        {
            "User-Agent": "Google-Cloud-Scheduler",
            "X-CloudScheduler": "true",
            "X-CloudScheduler-JobName": job_id,
            "X-CloudScheduler-ScheduleTime": schedule_time.strftime("%Y-%m-%dT%H:%M:%S")
            + (f".{schedule_time.microsecond:06d}" if schedule_time.microsecond else "")
            + "Z",
        }
    )
    if target.body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    if target.WhichOneof("authorization_header") == "oidc_token":
        audience = target.oidc_token.audience or target.uri
        token = oidc_token(target.oidc_token.service_account_email, audience, datetime.now(UTC))
        headers["Authorization"] = f"Bearer {token}"
    method = types.HttpMethod(target.http_method or types.HttpMethod.POST).name
    deadline = pb.attempt_deadline.seconds or 180
    status, payload = _http_call(method, target.uri, headers, target.body, deadline)
    return Delivery(job_id, schedule_time, target.uri, headers, target.body, status, payload)


def _http_call(
    method: str, uri: str, headers: dict[str, str], body: bytes, timeout: float
) -> tuple[int, bytes]:
    """One HTTP request with header names sent exactly as given (urllib would recase them)."""
    url = urllib.parse.urlsplit(uri)
    conn_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    try:
        conn = conn_type(url.hostname, url.port, timeout=timeout)
        try:
            conn.request(method, target, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as err:
        return 0, str(err).encode()


def running_scheduler(port: int = 0) -> AbstractContextManager[tuple[FakeScheduler, str]]:
    """Serve a fresh fake on localhost (a free port by default); yields (fake, "host:port")."""
    return serve(FakeScheduler(), port)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Cloud Scheduler v1 (gRPC, plain text)")
    parser.add_argument("--port", type=int, default=8085)
    args = parser.parse_args(argv)
    serve_until_interrupted(
        running_scheduler(args.port),
        "fake Cloud Scheduler on {address}; export SCHEDULER_EMULATOR_HOST={address}",
    )


if __name__ == "__main__":
    main()
