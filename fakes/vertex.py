"""An in-process fake of Vertex AI's PipelineService (google.cloud.aiplatform.v1) over gRPC.

The real `aiplatform_v1.PipelineServiceClient` talks to it over plain-text gRPC; requests and
responses are the library's own proto-plus types, so a test exercises the real serialization.
Semantics kept from the real service: CreatePipelineJob with a `pipeline_job_id` answers
ALREADY_EXISTS on a reuse and INVALID_ARGUMENT for a malformed id (pattern, 128 characters or
more), parent or labels (patterns, lengths, more than 64) and for a job with no pipeline root
(no runtime_config.gcs_output_directory and no defaultPipelineRoot in its spec);
GetPipelineJob answers NOT_FOUND; ListPipelineJobs filters (AIP-160 subset, see `parse_filter`)
and pages. Tests read what was created, set a job's state, inject faults (also one that lets
the call take effect and loses its answer) and count calls.

    python -m fakes.vertex --port 8085      # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import ClassVar

import grpc
from google.cloud.aiplatform_v1.types import pipeline_job as pj
from google.cloud.aiplatform_v1.types import pipeline_service as ps
from google.cloud.aiplatform_v1.types import pipeline_state
from google.protobuf import timestamp_pb2

from fakes.base import LOCALHOST, GrpcFake, Method, RpcError, serve, serve_until_interrupted

SERVICE = "google.cloud.aiplatform.v1.PipelineService"
State = pipeline_state.PipelineState

# CreatePipelineJob's rules (PipelineJob and CreatePipelineJobRequest references):
# pipeline_job_id "should be less than 128 characters, and valid characters are /[a-z][0-9]-/";
# labels follow Google Cloud's label rules (keys start with a lowercase letter, keys and values
# at most 63 of [a-z0-9_-] — Vertex also allows international lowercase letters, which this
# project never sends — at most 64 labels); runtime_config.gcs_output_directory is required
# unless the pipeline spec carries a defaultPipelineRoot.
_JOB_ID = re.compile(r"[a-z][-a-z0-9]{0,126}")
_PARENT = re.compile(r"projects/[^/]+/locations/[^/]+")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
_MAX_LABELS = 64


class FilterError(ValueError):
    """A ListPipelineJobs filter this fake (or the real service) cannot parse."""


# --- filter: a small AIP-160 subset -------------------------------------------------------------
# Grammar: expr := conj ("AND" conj)* ; conj := term ("OR" term)* ; term := "(" expr ")" |
# FIELD OP VALUE | "NOT" term. As in AIP-160, OR binds tighter than AND.
_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>!=|<=|>=|=|<|>|:)|"(?P<str>(?:[^"\\]|\\.)*)"'
    r"|(?P<word>[A-Za-z0-9_.*-]+))"
)

Predicate = Callable[[pj.PipelineJob], bool]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError(f"cannot parse filter at column {pos + 1}: {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


#: Fields ListPipelineJobs filters on and the operators the API reference allows for each.
_EQ = frozenset({"=", "!="})
_WILDCARD = frozenset({"=", "!=", ":"})
_ORDERED = frozenset({"=", "!=", "<", ">", "<=", ">="})
FIELD_OPERATORS = {
    "pipeline_name": _EQ,
    "display_name": _WILDCARD,
    "pipeline_job_user_id": _WILDCARD,
    "state": _EQ,
    "create_time": _ORDERED,
    "update_time": _ORDERED,
    "end_time": _ORDERED,
    "template_uri": _WILDCARD,
    "template_metadata.version": _WILDCARD,
}
_TIMES = ("create_time", "update_time", "end_time")


def _check_condition(field: str, op: str, value: str) -> None:
    """Refuse what the ListPipelineJobs reference does not allow (INVALID_ARGUMENT)."""
    if field.startswith("labels."):
        # "labels: Supports key-value equality and key presence."
        if op in ("=", "!=") or (op == ":" and value == "*"):
            return
        raise FilterError(f"labels support '=', '!=' and presence (':*'), not '{field}{op}'")
    allowed = FIELD_OPERATORS.get(field)
    if allowed is None:
        raise FilterError(
            f"unsupported filter field '{field}' (supported: labels.<key>, "
            + ", ".join(FIELD_OPERATORS)
            + ")"
        )
    if op not in allowed:
        raise FilterError(f"field '{field}' does not support '{op}'")
    if field == "state" and value not in State.__members__:
        raise FilterError(f"'{value}' is not a PipelineState (e.g. PIPELINE_STATE_RUNNING)")
    if field in _TIMES:
        _rfc3339(value)


def _rfc3339(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise FilterError(f"'{value}' is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise FilterError(f"'{value}' is not an RFC 3339 time (no offset)")
    return when


def _field_value(job: pj.PipelineJob, field: str) -> str | datetime | None:
    if field.startswith("labels."):
        return job.labels.get(field[len("labels.") :])
    if field == "state":
        return State(job.state).name
    if field in ("display_name", "template_uri"):
        return getattr(job, field)
    if field == "pipeline_job_user_id":
        return job.name.rsplit("/", 1)[-1]
    if field == "template_metadata.version":
        return job.template_metadata.version
    if field == "pipeline_name":
        return ((job.pipeline_spec or {}).get("pipelineInfo") or {}).get("name")
    if field in _TIMES:
        pb = type(job).pb(job)
        return getattr(pb, field).ToDatetime(tzinfo=UTC) if pb.HasField(field) else None
    raise FilterError(f"unsupported filter field '{field}'")


def _compare(actual: str | datetime | None, op: str, expected: str) -> bool:
    if op == ":":
        if expected == "*":
            return actual is not None and actual != ""
        return (
            isinstance(actual, str)
            and re.fullmatch(re.escape(expected).replace(r"\*", ".*"), actual) is not None
        )
    if isinstance(actual, datetime) or (actual is None and op not in ("=", "!=")):
        if actual is None:
            return False
        value: str | datetime = _rfc3339(expected)
    else:
        value = expected
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if actual is None:
        return False
    return {"<": actual < value, ">": actual > value, "<=": actual <= value,
            ">=": actual >= value}[op]  # fmt: skip


def parse_filter(text: str) -> Predicate:
    """A predicate over PipelineJobs for a ListPipelineJobs `filter` string ('' matches all).

    Exactly the fields and operators of the ListPipelineJobs reference (FIELD_OPERATORS;
    `labels.<key>` with = != and presence `:*`; times compared as RFC 3339 instants; no
    `start_time`), combined with AND, OR, NOT and parentheses (AIP-160); anything else raises
    FilterError, which the service answers with INVALID_ARGUMENT.
    """
    return _FilterParser(text).parse()


class _FilterParser:
    """Recursive descent over the filter's tokens; OR binds tighter than AND (AIP-160)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.pos = 0

    def parse(self) -> Predicate:
        if not self.toks:
            return lambda job: True
        pred = self._expr()
        if self.pos != len(self.toks):
            raise FilterError(f"unexpected {self.toks[self.pos][1]!r} in filter {self.text!r}")
        return pred

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def _take(self) -> tuple[str, str]:
        if self.pos >= len(self.toks):
            raise FilterError(f"filter ends early: {self.text!r}")
        self.pos += 1
        return self.toks[self.pos - 1]

    def _next_is(self, word: str) -> bool:
        return self._peek() == ("word", word)

    def _expr(self) -> Predicate:
        parts = self._joined("AND", self._conj)
        return lambda job: all(p(job) for p in parts)

    def _conj(self) -> Predicate:
        parts = self._joined("OR", self._term)
        return lambda job: any(p(job) for p in parts)

    def _joined(self, word: str, operand: Callable[[], Predicate]) -> list[Predicate]:
        parts = [operand()]
        while self._next_is(word):
            self._take()
            parts.append(operand())
        return parts

    def _term(self) -> Predicate:
        tok = self._take()
        if tok[0] == "lp":
            inner = self._expr()
            if self._take()[0] != "rp":
                raise FilterError(f"missing ')' in filter {self.text!r}")
            return inner
        if tok == ("word", "NOT"):
            negated = self._term()
            return lambda job: not negated(job)
        if tok[0] != "word":
            raise FilterError(f"expected a field name, got {tok[1]!r} in filter {self.text!r}")
        return self._condition(tok[1])

    def _condition(self, field: str) -> Predicate:
        op = self._take()
        if op[0] != "op":
            raise FilterError(f"expected an operator after '{field}' in filter {self.text!r}")
        value = self._take()
        if value[0] not in ("str", "word"):
            raise FilterError(f"expected a value after '{field}{op[1]}' in filter {self.text!r}")
        expected = value[1]
        _check_condition(field, op[1], expected)  # refused up front, as the service does
        return lambda job: _compare(_field_value(job, field), op[1], expected)


# --- the fake service ---------------------------------------------------------------------------
class FakePipelineService(GrpcFake):
    """State and behaviour of the fake; `serve` (fakes.base) exposes it to a grpc.Server."""

    SERVICE: ClassVar[str] = SERVICE

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        if latency:
            self.latency["*"] = latency
        self.jobs: dict[str, pj.PipelineJob] = {}  # by full resource name, in creation order
        #: page cursors: id -> ((parent, filter), matching jobs)
        self._cursors: dict[str, tuple[tuple[str, str], list[pj.PipelineJob]]] = {}

    # test helpers
    def created(self) -> list[pj.PipelineJob]:
        """The jobs created so far, in creation order."""
        with self.lock:
            return list(self.jobs.values())

    def job(self, job_id_or_name: str) -> pj.PipelineJob:
        """One stored job by id or full resource name (KeyError if absent)."""
        with self.lock:
            for name, job in self.jobs.items():
                if name == job_id_or_name or name.rsplit("/", 1)[-1] == job_id_or_name:
                    return job
        raise KeyError(job_id_or_name)

    def set_state(self, job_id_or_name: str, state: State | str) -> None:
        """Move a stored job to `state` (an enum member or a name like 'PIPELINE_STATE_FAILED')."""
        job = self.job(job_id_or_name)
        with self.lock:
            job.state = State[state] if isinstance(state, str) else state
            job.update_time = _now()

    def add_job(self, parent: str, job_id: str, labels: dict[str, str], state: State | str) -> None:
        """Store a job directly (as if created earlier), e.g. to fill a schedule's running slots."""
        job = pj.PipelineJob(name=f"{parent}/pipelineJobs/{job_id}", labels=labels)
        job.state = State[state] if isinstance(state, str) else state
        job.create_time = job.update_time = _now()
        with self.lock:
            self.jobs[job.name] = job

    def reset(self) -> None:
        """Forget jobs, calls, faults and timings."""
        with self.lock:
            latency = self.latency.get("*")
            super().reset()
            if latency:  # the constructor's, which every call of this fake has
                self.latency["*"] = latency
            self.jobs.clear()
            self._cursors.clear()

    # RPCs
    def create_pipeline_job(self, request: ps.CreatePipelineJobRequest) -> pj.PipelineJob:
        parent = request.parent
        if not _PARENT.fullmatch(parent):
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid parent '{parent}'")
        job_id = request.pipeline_job_id or f"pipeline-{uuid.uuid4().hex[:20]}"
        job = pj.PipelineJob(request.pipeline_job)
        problem = job_problem(job_id, job)
        if problem:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, problem)
        name = f"{parent}/pipelineJobs/{job_id}"
        with self.lock:
            if name in self.jobs:
                raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f"PipelineJob {name} already exists")
            job.name = name
            job.state = State.PIPELINE_STATE_PENDING
            job.create_time = job.update_time = _now()
            self.jobs[name] = job
        return job

    def get_pipeline_job(self, request: ps.GetPipelineJobRequest) -> pj.PipelineJob:
        with self.lock:
            job = self.jobs.get(request.name)
        if job is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"PipelineJob {request.name} not found")
        return job

    def list_pipeline_jobs(
        self, request: ps.ListPipelineJobsRequest
    ) -> ps.ListPipelineJobsResponse:
        try:
            pred = parse_filter(request.filter)
        except FilterError as err:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, str(err)) from None
        if request.page_token:
            cursor_id, matching, start = self._page(request)
        else:
            cursor_id, matching, start = self._first_page(request, pred)
        size = request.page_size if request.page_size > 0 else 100
        page = matching[start : start + size]
        paths = list(request.read_mask.paths) if request.read_mask else []
        if paths:
            page = [_masked(job, paths) for job in page]
        more = start + size < len(matching)
        return ps.ListPipelineJobsResponse(
            pipeline_jobs=page, next_page_token=f"{cursor_id}:{start + size}" if more else ""
        )

    def _first_page(
        self, request: ps.ListPipelineJobsRequest, pred: Predicate
    ) -> tuple[str, list, int]:
        prefix = request.parent + "/pipelineJobs/"
        cursor_id = uuid.uuid4().hex[:12]
        with self.lock:
            matching = [j for n, j in self.jobs.items() if n.startswith(prefix) and pred(j)]
            self._cursors[cursor_id] = ((request.parent, request.filter), matching)
        matching.reverse()  # the real default order: newest first
        return cursor_id, matching, 0

    def _page(self, request: ps.ListPipelineJobsRequest) -> tuple[str, list, int]:
        # A page token is a cursor into the first page's result, tied to its parent and filter
        # (another request's token is refused); later pages do not re-run the filter, which
        # keeps listing thousands of runs cheap in benchmarks.
        cursor_id, _, offset = request.page_token.partition(":")
        with self.lock:
            cursor = self._cursors.get(cursor_id)
        if cursor is None or cursor[0] != (request.parent, request.filter) or not offset.isdigit():
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid page_token")
        return cursor_id, cursor[1], int(offset)

    def methods(self) -> dict[str, Method]:
        return {
            "CreatePipelineJob": Method.of(
                self.create_pipeline_job, ps.CreatePipelineJobRequest, pj.PipelineJob
            ),
            "GetPipelineJob": Method.of(
                self.get_pipeline_job, ps.GetPipelineJobRequest, pj.PipelineJob
            ),
            "ListPipelineJobs": Method.of(
                self.list_pipeline_jobs, ps.ListPipelineJobsRequest, ps.ListPipelineJobsResponse
            ),
        }


def job_problem(job_id: str, job: pj.PipelineJob) -> str | None:
    """Why CreatePipelineJob refuses `job` under `job_id` (INVALID_ARGUMENT), or None."""
    if not _JOB_ID.fullmatch(job_id):
        return (
            f"pipeline_job_id '{job_id:.200}' is invalid: it must match [a-z][-a-z0-9]* and be "
            "less than 128 characters"
        )
    if not job.pipeline_spec:
        return "pipeline_spec is required"
    if len(job.labels) > _MAX_LABELS:
        return f"a PipelineJob has at most {_MAX_LABELS} labels, got {len(job.labels)}"
    for key, value in job.labels.items():
        if not _LABEL_KEY.fullmatch(key):
            return f"invalid label key {key!r}: [a-z][a-z0-9_-]*, at most 63 characters"
        if not _LABEL_VALUE.fullmatch(value):
            return f"invalid value of label {key!r}: {value!r} (at most 63 of [a-z0-9_-])"
    root = job.runtime_config.gcs_output_directory
    default_root = (job.pipeline_spec or {}).get("defaultPipelineRoot")
    if not root and not default_root:
        return (
            "runtime_config.gcs_output_directory is required: the pipeline spec has no "
            "defaultPipelineRoot"
        )
    if root and not root.startswith("gs://"):
        return f"runtime_config.gcs_output_directory '{root:.200}' is not a gs:// path"
    return None


def _now() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def _masked(job: pj.PipelineJob, paths: list[str]) -> pj.PipelineJob:
    out = pj.PipelineJob()
    for path in paths:
        top = path.split(".", 1)[0]
        setattr(out, top, getattr(job, top))
    return out


def fake_vertex(
    port: int = 0, latency: float = 0.0, host: str = LOCALHOST
) -> AbstractContextManager[tuple[FakePipelineService, str]]:
    """Serve a fresh fake on `port` (0: a free one); yields (fake, "host:port")."""
    return serve(FakePipelineService(latency=latency), port, host)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--host", default=LOCALHOST)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    args = parser.parse_args(argv)
    serve_until_interrupted(
        fake_vertex(args.port, args.latency, args.host),
        "fake Vertex AI PipelineService on {address}; AIPLATFORM_EMULATOR_HOST={address}",
    )


if __name__ == "__main__":
    main()
