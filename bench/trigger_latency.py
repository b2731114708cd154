"""Cold start and warm latency of the trigger function, beside an aiplatform-SDK function.

Both functions run under functions-framework in a subprocess and talk to the same fakes in this
process: the GCS emulator (templates published by `compile.py --publish`) and the fake Vertex AI
PipelineService. The SDK function ("the anchors' way") imports `google.cloud.aiplatform` and
submits through `aiplatform.PipelineJob(...).submit()`. The SDK only speaks TLS gRPC, so the fake
is also served on a TLS port (throw-away self-signed certificate, trusted through
GRPC_DEFAULT_SSL_ROOTS_FILE_PATH). `submit()` also checks that the pipeline-root bucket belongs
to the project by asking Cloud Resource Manager for the project number, at a fixed endpoint:
the SDK function gets `grpc_proxy` pointing at a local CONNECT proxy that sends that host (and
only that host; anything else is refused) to a fake Projects.GetProject on the same TLS port.

- cold start: process start -> first response (to a real trigger request)
- warm: client round trip of sequential requests (distinct fire times, so each creates a job)
  minus the time the fake PipelineService spent inside its handlers for that request.
- "max_concurrent_runs=1": ours again, each fire also taking the schedule's lease (read,
  list running jobs, check the previous holder, conditional write); each run is marked
  finished after its call so the next one may start.
  The GCS emulator's time is not subtracted; ours reads nothing from GCS when warm, the SDK
  function reads the template and checks the pipeline-root bucket on every call.

    .venv/bin/python bench/trigger_latency.py [--runs 5] [--requests 100]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "trigger")]

import trigger_harness as h  # noqa: E402

from fakes.gcs import gcs_emulator  # noqa: E402
from fakes.vertex import FakePipelineService  # noqa: E402

SDK_FUNCTION = '''
"""The anchors' way: the aiplatform SDK, template path as given, PipelineJob.submit()."""
import json
import os

from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform


def trigger(request):
    body = request.get_json()
    aiplatform.init(
        project=os.environ["PROJECT"],
        location=os.environ["REGION"],
        credentials=AnonymousCredentials(),
        api_endpoint=os.environ["SDK_API_ENDPOINT"],
    )
    job = aiplatform.PipelineJob(
        display_name=body["job_id"],
        template_path=body["template"],
        pipeline_root=os.environ["PIPELINE_ROOT"],
        parameter_values=body["parameters"],
        job_id=body["job_id"],
        labels={"schedule": body["schedule"]},
        enable_caching=False,
    )
    job.submit(service_account=os.environ["PIPELINE_SERVICE_ACCOUNT"])
    return json.dumps({"job": job.resource_name}), 200, {"Content-Type": "application/json"}
'''

PARAMS = {"raw_data_path": "raw/latest.csv", "gate_threshold": 0.6}


RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"


def self_signed(directory: Path) -> tuple[bytes, bytes, Path]:
    """(key PEM, cert PEM, cert path) for localhost, 127.0.0.1 and Resource Manager's host."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(RESOURCE_MANAGER),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path = directory / "fake-vertex.pem"
    path.write_bytes(cert_pem)
    return key_pem, cert_pem, path


RESOURCE_MANAGER_CALLS: list[str] = []


def resource_manager_handler() -> grpc.GenericRpcHandler:
    """Projects.GetProject answering with the project number the GCS emulator gives buckets."""
    from gcp_storage_emulator import settings
    from google.cloud.resourcemanager_v3 import types as rm

    def get_project(request, context):
        RESOURCE_MANAGER_CALLS.append(request.name)
        project_id = request.name.split("/", 1)[-1]
        number = settings.DEFAULT_PROJECT_NUMBER
        return rm.Project(name=f"projects/{number}", project_id=project_id)

    method = grpc.unary_unary_rpc_method_handler(
        get_project,
        request_deserializer=rm.GetProjectRequest.deserialize,
        response_serializer=rm.Project.serialize,
    )
    return grpc.method_handlers_generic_handler(
        "google.cloud.resourcemanager.v3.Projects", {"GetProject": method}
    )


@contextlib.contextmanager
def connect_proxy(allowed_host: str, target: tuple[str, int]) -> Iterator[str]:
    """An HTTP CONNECT proxy sending `allowed_host` to `target` and refusing everything else."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve(client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        host = head.split(b" ", 2)[1].decode().rsplit(":", 1)[0]
        if host != allowed_host:
            client.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            client.close()
            return
        upstream = socket.create_connection(target)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@contextlib.contextmanager
def serve_fake(tmp: Path) -> Iterator[tuple[FakePipelineService, str, str, Path]]:
    """The fake on a plain-text and a TLS port: (fake, plain host:port, TLS host:port, cert)."""
    fake = FakePipelineService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((*fake.handlers(), resource_manager_handler()))
    plain = server.add_insecure_port("127.0.0.1:0")
    key_pem, cert_pem, cert_path = self_signed(tmp)
    tls = server.add_secure_port("localhost:0", grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    try:
        yield fake, f"127.0.0.1:{plain}", f"localhost:{tls}", cert_path
    finally:
        server.stop(grace=None)


class Caller:
    """Sends trigger requests with fresh fire times and times them."""

    def __init__(
        self, url: str, template: str, sdk: bool, fake: FakePipelineService, limit: int = 0
    ) -> None:
        self.url, self.template, self.sdk, self.fake = url, template, sdk, fake
        self.limit = limit  # max_concurrent_runs; each run is then finished after its call
        self.fires = 0

    def payload(self) -> tuple[dict, dict]:
        self.fires += 1
        when = dt.datetime(2027, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=self.fires)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        schedule = "bench-sdk" if self.sdk else "bench"
        body = {
            "pipeline": h.PIPELINE,
            "template": self.template,
            "parameters": PARAMS,
            "schedule": schedule,
        }
        if self.limit:
            body["max_concurrent_runs"] = self.limit
            body["schedule"] = schedule = "bench-limited"
        if self.sdk:  # the SDK function takes the id from the caller
            body["job_id"] = f"{h.ENV}-{schedule}-{when.strftime('%Y%m%dt%H%M%Sz')}"
        return body, h.scheduler_headers(schedule, stamp)

    def call(self) -> float:
        """One request; seconds it took minus the fake's own time."""
        body, headers = self.payload()
        busy = self.fake.busy_seconds
        started = time.perf_counter()
        resp = requests.post(self.url, data=json.dumps(body), headers=headers, timeout=120)
        elapsed = time.perf_counter() - started
        self.check(resp)
        return elapsed - (self.fake.busy_seconds - busy)

    def check(self, resp: requests.Response) -> None:
        """Raise unless a job was created; with a limit, finish that job (frees the slot)."""
        if resp.status_code != 200 or resp.json().get("outcome") == "skipped":
            raise RuntimeError(f"{self.url} answered {resp.status_code}: {resp.text[:500]}")
        if self.limit:
            self.fake.set_state(resp.json()["job"], "PIPELINE_STATE_SUCCEEDED")


def one_process(
    source: Path, env: dict, caller: Caller, warm_requests: int, log: Path
) -> tuple[float, list[float]]:
    """Start the function, time its first response, then `warm_requests` more; stop it."""
    port = h.free_port()
    caller.url = f"http://127.0.0.1:{port}/"
    ff = Path(sys.executable).with_name("functions-framework")
    started = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(ff), "--source", source.name, "--target", "trigger", "--port", str(port)],
            cwd=source.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        body, headers = caller.payload()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{source} exited with {proc.returncode}; see {log}")
            try:
                resp = requests.post(
                    caller.url, data=json.dumps(body), headers=headers, timeout=120
                )
                break
            except requests.ConnectionError:
                time.sleep(0.01)
        cold = time.perf_counter() - started
        caller.check(resp)
        for _ in range(3):  # let lazy one-off work (channel setup, caches) settle
            caller.call()
        warm = [caller.call() for _ in range(warm_requests)]
        return cold, warm
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts per function")
    parser.add_argument("--requests", type=int, default=100, help="warm requests per cold start")
    parser.add_argument("--sdk-requests", type=int, default=30, help="warm requests, SDK function")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory() as tmpdir,
        gcs_emulator(buckets=(h.BUCKET, "acme-runs")),
        serve_fake(Path(tmpdir)) as (fake, plain, tls, cert),
        connect_proxy(RESOURCE_MANAGER, ("127.0.0.1", int(tls.rsplit(":", 1)[1]))) as proxy,
    ):
        tmp = Path(tmpdir)
        h.publish_templates(("v1",), latest="v1")
        sdk_source = tmp / "sdk" / "main.py"
        sdk_source.parent.mkdir()
        sdk_source.write_text(SDK_FUNCTION)
        ours_env = h.function_env(plain)
        sdk_env = h.function_env(
            plain,
            SDK_API_ENDPOINT=tls,
            GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=str(cert),
            grpc_proxy=proxy,
            no_grpc_proxy="localhost,127.0.0.1",
        )
        template_uri = f"{h.BASE}/v1/templates/{h.PIPELINE}.yaml"
        variants = {
            "trigger/main.py (GAPIC)": (
                h.deployed_folder() / "main.py",
                ours_env,
                Caller("", "latest", False, fake),
                args.requests,
            ),
            "ours, max_concurrent_runs=1": (
                h.deployed_folder() / "main.py",
                ours_env,
                Caller("", "latest", False, fake, limit=1),
                args.requests,
            ),
            "aiplatform SDK PipelineJob": (
                sdk_source,
                sdk_env,
                Caller("", template_uri, True, fake),
                args.sdk_requests,
            ),
        }
        results = {}
        for _ in range(args.runs):  # interleaved, so load from other processes hits both alike
            for label, (source, env, caller, n) in variants.items():
                cold, warm = one_process(source, env, caller, n, tmp / "functions.log")
                results.setdefault(label, []).append(
                    (cold, pct(warm, 0.5) * 1000, pct(warm, 0.95) * 1000)
                )
                print(
                    f"  {label:28s} cold {cold:6.2f} s  warm p50 {results[label][-1][1]:7.1f} ms"
                    f"  p95 {results[label][-1][2]:7.1f} ms",
                    flush=True,
                )
        print(f"\nmedians over {args.runs} cold starts each (fake PipelineService time excluded)")
        print(f"{'function':30s} {'cold start':>11s} {'warm p50':>10s} {'warm p95':>10s}")
        medians = {}
        for label, rows in results.items():
            cold, p50, p95 = (statistics.median(col) for col in zip(*rows, strict=True))
            medians[label] = cold
            print(f"{label:30s} {cold:9.2f} s {p50:7.1f} ms {p95:7.1f} ms")
        ours, sdk = medians["trigger/main.py (GAPIC)"], medians["aiplatform SDK PipelineJob"]
        print(f"\ncold start ratio ours/SDK: {ours / sdk:.2f} (goal <= 0.50)")
        print(f"jobs created in the fake: {len(fake.created())}; Resource Manager GetProject calls")
        print(f"(the SDK's bucket ownership check): {len(RESOURCE_MANAGER_CALLS)}")
        sdk_log = (tmp / "functions.log").read_text()
        print(f"SDK bucket-check errors logged: {sdk_log.count('Error when trying to get or')}")


if __name__ == "__main__":
    main()
