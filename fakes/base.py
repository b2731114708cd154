"""What every in-process fake shares: one fault queue, call counting, serving on a free port.

A fake module holds the state and the rules of one Google API; this module is how it is served
and how a test makes it fail, the same way for every fake:

    with fake_vertex() as (fake, host):               # any fake: (fake, address) on a free port
        fake.inject_fault("CreatePipelineJob", grpc.StatusCode.UNAVAILABLE, times=2)
        fake.inject_fault("CreatePipelineJob", grpc.StatusCode.DEADLINE_EXCEEDED, lands=True)
        fake.calls["CreatePipelineJob"]               # calls counted per method

The next `times` calls of the method (or of any method: "*") answer with the fault's code
instead of doing anything. With `lands`, each of them is carried out first and only its answer
is replaced: the request took effect and the answer was lost on the way back, which is what a
timeout or an UNAVAILABLE can hide from a client. `target` narrows a fault to the calls about
one resource (a job id). gRPC fakes take a `grpc.StatusCode`, REST fakes an HTTP status (and
the `reason` their error body carries).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple

import grpc

LOCALHOST = "127.0.0.1"
#: google.rpc status names of the HTTP statuses REST fakes answer with (AIP-193).
HTTP_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                     404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION",
                     429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
                     504: "DEADLINE_EXCEEDED"}  # fmt: skip


@dataclass
class Fault:
    """One injected error and how many more calls answer with it."""

    code: Any
    message: str = "injected fault"
    remaining: int = 1
    lands: bool = False
    target: str | None = None
    reason: str = ""

    def applies_to(self, target: str) -> bool:
        """Whether a call about `target` (a resource name or id) gets this fault."""
        if self.target is None:
            return True
        return self.target in (target, target.rsplit("/", 1)[-1])


class FaultQueue:
    """Faults per method ("*": any method), taken oldest first; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[tuple[str, Fault]] = []
        self._lock = threading.Lock()

    def add(self, method: str, fault: Fault) -> None:
        """Queue `fault` for the next calls of `method`."""
        if fault.remaining < 1:
            raise ValueError(f"a fault needs times >= 1, got {fault.remaining}")
        with self._lock:
            self._faults.append((method, fault))

    def take(self, method: str, target: str = "") -> Fault | None:
        """The fault a call of `method` about `target` answers with (one of its `times` used)."""
        with self._lock:
            for index, (queued, fault) in enumerate(self._faults):
                if queued in (method, "*") and fault.applies_to(target):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[index]
                    return fault
        return None

    def clear(self) -> None:
        """Forget every fault not taken yet."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


@dataclass
class FakeService:
    """State every fake has: calls per method, the requests, faults, latency, a lock."""

    calls: Counter = field(default_factory=Counter)
    #: (method, request) of every call, in order
    requests: list = field(default_factory=list)
    faults: FaultQueue = field(default_factory=FaultQueue)
    #: seconds each call of a method ("*": every method) waits before it is served, unlocked
    latency: dict[str, float] = field(default_factory=dict)
    #: seconds spent serving calls (latency included), for benchmarks to subtract
    busy_seconds: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def inject_fault(
        self,
        method: str,
        code: Any,
        *,
        times: int = 1,
        message: str = "injected fault",
        lands: bool = False,
        target: str | None = None,
        reason: str = "",
    ) -> None:
        """Make the next `times` calls of `method` ('*': any) answer `code` (module docstring)."""
        self.faults.add(method, Fault(code, message, times, lands, target, reason))

    def reset(self) -> None:
        """Forget calls, requests, faults, latency and timings (subclasses forget their state)."""
        with self.lock:
            self.calls.clear()
            self.requests.clear()
            self.faults.clear()
            self.latency.clear()
            self.busy_seconds = 0.0

    def begin(self, method: str, request: Any = None, target: str = "") -> Fault | None:
        """Count one call and keep its request; wait out its latency; the fault it answers with."""
        with self.lock:
            self.calls[method] += 1
            self.requests.append((method, request))
        delay = self.latency.get(method, self.latency.get("*", 0.0))
        if delay:
            time.sleep(delay)  # outside the lock: other calls are served meanwhile
        return self.faults.take(method, target)

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Add the time spent inside the block to `busy_seconds`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                self.busy_seconds += time.perf_counter() - started

    def address(self, host: str, port: int) -> str:
        """What `serve` yields beside the fake: how clients reach it."""
        return f"{host}:{port}"


# --- gRPC ----------------------------------------------------------------------------------------
class RpcError(Exception):
    """Raised inside a gRPC fake's method: answered with `code` and `message`."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Method(NamedTuple):
    """One RPC: the fake's function of the request (raising RpcError to refuse it) and the
    library's (de)serializers."""

    fn: Callable[[Any], Any]
    deserialize: Callable[[bytes], Any]
    serialize: Callable[[Any], bytes]

    @classmethod
    def of(cls, fn: Callable[[Any], Any], request: type, response: type) -> Method:
        """The RPC `fn` taking a `request` message and answering a `response` one (proto-plus
        types or plain protobuf ones)."""
        deserialize = getattr(request, "deserialize", None) or request.FromString
        serialize = getattr(response, "serialize", None) or response.SerializeToString
        return cls(fn, deserialize, serialize)


@dataclass
class GrpcFake(FakeService):
    """A fake gRPC service: `methods()` names its RPCs; counting and faults come with them."""

    #: the full service name, e.g. "google.cloud.aiplatform.v1.PipelineService"
    SERVICE: ClassVar[str] = ""
    #: hold `lock` while a method runs (fakes whose methods do not lock their state themselves)
    SERIALIZED: ClassVar[bool] = False

    def methods(self) -> dict[str, Method]:
        """The RPCs of SERVICE by method name."""
        raise NotImplementedError

    def services(self) -> dict[str, dict[str, Method]]:
        """Every service this fake serves (one, unless it also answers long-running operations)."""
        return {self.SERVICE: self.methods()}

    def fault_target(self, request: Any) -> str:
        """The resource a request is about, which a fault's `target` is matched against."""
        return str(getattr(request, "name", "") or "")

    def handlers(self) -> tuple[grpc.GenericRpcHandler, ...]:
        """Generic handlers serving every method with the library's own types."""
        return tuple(
            grpc.method_handlers_generic_handler(
                service,
                {
                    name: grpc.unary_unary_rpc_method_handler(
                        self._served(name, method.fn),
                        request_deserializer=method.deserialize,
                        response_serializer=method.serialize,
                    )
                    for name, method in methods.items()
                },
            )
            for service, methods in self.services().items()
        )

    def _served(self, name: str, fn: Callable) -> Callable:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            with self.timed():
                fault = self.begin(name, request, self.fault_target(request))
                if fault is not None and not fault.lands:
                    context.abort(fault.code, fault.message)
                answer = self._run(fn, request, context)
                if fault is not None:  # it landed: only the answer is lost
                    context.abort(fault.code, fault.message)
                return answer

        return call

    def _run(self, fn: Callable, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            if self.SERIALIZED:
                with self.lock:
                    return fn(request)
            return fn(request)
        except RpcError as err:
            context.abort(err.code, err.message)


# --- HTTP ----------------------------------------------------------------------------------------
class JsonHandler(BaseHTTPRequestHandler):
    """Request handler of a REST fake: `route(verb)` answers every verb; `fake` is bound by
    `serve`."""

    fake: Any

    def route(self, verb: str) -> None:
        """Answer the request (self.path, self.headers, read_body())."""
        self.reply(405, {"error": {"code": 405, "message": f"{verb} is not served here"}})

    def _dispatch(self) -> None:
        self.route(self.command)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch  # noqa: N815 (http.server's names)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def read_body(self) -> bytes:
        """The request body (Content-Length bytes)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, payload: Any = None, content_type: str = "") -> None:
        """Answer `status` with `payload`: JSON unless bytes or str, nothing when None."""
        if payload is None:
            data = b""
        elif isinstance(payload, bytes | str):
            data = payload.encode() if isinstance(payload, str) else payload
        else:
            data = json.dumps(payload).encode()
            content_type = content_type or "application/json"
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def answer(self, method: str, work: Callable[[], tuple[int, Any]], request: Any = None) -> None:
        """Count the call, apply a fault queued for `method`, else reply what `work()` returns."""
        with self.fake.timed():
            fault = self.fake.begin(method, self.path if request is None else request)
            if fault is None or fault.lands:
                status, payload = work()
            if fault is not None:
                status, payload = fault.code, self.fake.fault_body(fault)
            self.reply(status, payload)


@dataclass
class HttpFake(FakeService):
    """A fake REST API; HANDLER routes its requests (subclass of JsonHandler)."""

    HANDLER: ClassVar[type[JsonHandler]] = JsonHandler

    def fault_body(self, fault: Fault) -> Any:
        """The error payload an injected fault answers with (Google's JSON error shape)."""
        error = {"code": fault.code, "message": fault.message}
        error["status"] = HTTP_STATUS_NAMES.get(fault.code, "UNKNOWN")
        if fault.reason:
            error["errors"] = [
                {"message": fault.message, "domain": "global", "reason": fault.reason}
            ]
        return {"error": error}

    def address(self, host: str, port: int) -> str:
        return f"http://{host}:{port}"


# --- serving -------------------------------------------------------------------------------------
@contextlib.contextmanager
def serve(fake: Any, port: int = 0, host: str = LOCALHOST) -> Iterator[tuple[Any, str]]:
    """Serve `fake` (a GrpcFake or an HttpFake) on `port` (0: a free one); yields
    (fake, its address) and stops the server afterwards."""
    if isinstance(fake, GrpcFake):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers(fake.handlers())
        bound = server.add_insecure_port(f"{host}:{port}")
        server.start()
        try:
            yield fake, fake.address(host, bound)
        finally:
            server.stop(grace=None)
        return
    handler = type(fake.HANDLER.__name__, (fake.HANDLER,), {"fake": fake})
    http_server = ThreadingHTTPServer((host, port), handler)
    http_server.daemon_threads = True
    thread = threading.Thread(target=http_server.serve_forever, name=type(fake).__name__)
    thread.daemon = True
    thread.start()
    try:
        yield fake, fake.address(host, http_server.server_address[1])
    finally:
        http_server.shutdown()
        http_server.server_close()


def serve_until_interrupted(served: contextlib.AbstractContextManager, banner: str) -> None:
    """`python -m fakes.<name>`: run `served` until Ctrl-C; `banner` may name `{address}`."""
    with served as (_fake, address), contextlib.suppress(KeyboardInterrupt):
        print(banner.format(address=address), flush=True)
        threading.Event().wait()
