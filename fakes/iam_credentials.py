"""A fake IAM Service Account Credentials API (google.iam.credentials.v1) over gRPC, in process.

The real `google.cloud.iam_credentials_v1.IAMCredentialsClient` talks to it over plain-text gRPC
(`IAM_CREDENTIALS_EMULATOR_HOST=host:port`), with the library's own request/response types.
GenerateIdToken keeps the real API's rules that matter here: the name must be
`projects/-/serviceAccounts/<email or unique id>` (INVALID_ARGUMENT), the audience is required
(INVALID_ARGUMENT), an unknown account is NOT_FOUND, and the caller needs
roles/iam.serviceAccountOpenIdTokenCreator on the account (`fake.grant(email)`; otherwise
PERMISSION_DENIED). The token is JWT-shaped, unsigned, with the claims Google's ID tokens carry
(`fakes.scheduler.oidc_token`), so the trigger reads its `email` as it would in production.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from google.cloud.iam_credentials_v1 import types

from fakes.scheduler import oidc_token

SERVICE = "google.iam.credentials.v1.IAMCredentials"
_NAME = re.compile(r"^projects/-/serviceAccounts/(?P<account>[^/]+)$")


@dataclass
class FakeIamCredentials:
    """Known accounts, which of them the caller may mint tokens for, and call counters."""

    accounts: set[str] = field(default_factory=set)
    granted: set[str] = field(default_factory=set)
    calls: Counter = field(default_factory=Counter)
    issued: list[tuple[str, str]] = field(default_factory=list)
    faults: list[grpc.StatusCode] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, account: str) -> None:
        """The caller holds roles/iam.serviceAccountOpenIdTokenCreator on `account`."""
        with self.lock:
            self.accounts.add(account)
            self.granted.add(account)

    def generate_id_token(
        self, request: types.GenerateIdTokenRequest, context: grpc.ServicerContext
    ) -> types.GenerateIdTokenResponse:
        with self.lock:
            self.calls["GenerateIdToken"] += 1
            if self.faults:
                context.abort(self.faults.pop(0), "injected fault")
        match = _NAME.match(request.name)
        if not match:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Invalid resource name '{request.name}': expected "
                "projects/-/serviceAccounts/{ACCOUNT_EMAIL_OR_UNIQUEID}",
            )
        if not request.audience:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience is required")
        account = match["account"]
        with self.lock:
            known, allowed = account in self.accounts, account in self.granted
        if not known:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Service account {account} not found")
        if not allowed:
            context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission 'iam.serviceAccounts.getOpenIdToken' denied on {account}",
            )
        with self.lock:
            self.issued.append((account, request.audience))
        return types.GenerateIdTokenResponse(
            token=oidc_token(account, request.audience, datetime.now(UTC))
        )

    def handler(self) -> grpc.GenericRpcHandler:
        """The generic handler serving GenerateIdToken."""
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "GenerateIdToken": grpc.unary_unary_rpc_method_handler(
                    self.generate_id_token,
                    request_deserializer=types.GenerateIdTokenRequest.deserialize,
                    response_serializer=types.GenerateIdTokenResponse.serialize,
                )
            },
        )


@contextlib.contextmanager
def fake_iam_credentials(port: int = 0) -> Iterator[tuple[FakeIamCredentials, str]]:
    """Serve a fresh fake on localhost; yields (fake, "host:port")."""
    fake = FakeIamCredentials()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((fake.handler(),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield fake, f"127.0.0.1:{bound}"
    finally:
        server.stop(grace=None)
