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

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

import grpc
from google.cloud.iam_credentials_v1 import types

from fakes.base import GrpcFake, Method, RpcError, serve
from fakes.scheduler import oidc_token

SERVICE = "google.iam.credentials.v1.IAMCredentials"
_NAME = re.compile(r"^projects/-/serviceAccounts/(?P<account>[^/]+)$")


@dataclass
class FakeIamCredentials(GrpcFake):
    """Known accounts, which of them the caller may mint tokens for, and the tokens issued."""

    SERVICE: ClassVar[str] = SERVICE

    accounts: set[str] = field(default_factory=set)
    granted: set[str] = field(default_factory=set)
    issued: list[tuple[str, str]] = field(default_factory=list)

    def grant(self, account: str) -> None:
        """The caller holds roles/iam.serviceAccountOpenIdTokenCreator on `account`."""
        with self.lock:
            self.accounts.add(account)
            self.granted.add(account)

    def generate_id_token(
        self, request: types.GenerateIdTokenRequest
    ) -> types.GenerateIdTokenResponse:
        match = _NAME.match(request.name)
        if not match:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Invalid resource name '{request.name}': expected "
                "projects/-/serviceAccounts/{ACCOUNT_EMAIL_OR_UNIQUEID}",
            )
        if not request.audience:
            raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, "audience is required")
        account = match["account"]
        with self.lock:
            known, allowed = account in self.accounts, account in self.granted
        if not known:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Service account {account} not found")
        if not allowed:
            raise RpcError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission 'iam.serviceAccounts.getOpenIdToken' denied on {account}",
            )
        with self.lock:
            self.issued.append((account, request.audience))
        return types.GenerateIdTokenResponse(
            token=oidc_token(account, request.audience, datetime.now(UTC))
        )

    def methods(self) -> dict[str, Method]:
        return {
            "GenerateIdToken": Method.of(
                self.generate_id_token, types.GenerateIdTokenRequest, types.GenerateIdTokenResponse
            )
        }


def fake_iam_credentials(port: int = 0) -> AbstractContextManager[tuple[FakeIamCredentials, str]]:
    """Serve a fresh fake on localhost; yields (fake, "host:port")."""
    return serve(FakeIamCredentials(), port)
