"""The trigger function's configuration: environment variables, checked all at once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import alerting
import lease
from template_store import Base, parse_base

from contract.environment import ACCOUNT, BUCKET_URI, ENV_NAME


@dataclass(frozen=True)
class Settings:
    """The function's configuration, from environment variables (trigger/README.md)."""

    project: str
    region: str
    environment: str
    base: Base
    pipeline_root: str
    service_account: str
    scheduler_invoker: str
    manual_runs: bool
    lease_bucket: str
    lease_prefix: str
    lease_grace: float
    network: str | None
    max_body_bytes: int
    latest_ttl: float
    timeout: float
    aiplatform_emulator: str | None
    #: Pub/Sub topic of the failure alerts ('' = none); ALERTS_TIMEOUT_SECONDS bounds a publish
    alerts_topic: str = ""
    alerts_timeout: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ = os.environ) -> Settings:
        """Read and check the environment; ValueError naming every variable that is wrong."""
        read = _EnvReader(env)
        project, region = read.project_and_region()
        environment = read.required("ENVIRONMENT", ENV_NAME, "an environment name like dev or prod")
        base = read.template_base()
        root = read.required("PIPELINE_ROOT", BUCKET_URI, "a gs://BUCKET[/PATH] URI")
        account = read.account(
            "PIPELINE_SERVICE_ACCOUNT",
            "a service account e-mail (jobs never run as the default compute account)",
        )
        invoker = read.account(
            "SCHEDULER_INVOKER", "the service account e-mail Cloud Scheduler calls as"
        )
        manual = read.manual_runs()
        match = read.lease_root(root)
        max_body = int(read.number("MAX_BODY_BYTES", 65536))
        latest_ttl = read.number("LATEST_CACHE_SECONDS", 60)
        timeout = read.number("RPC_TIMEOUT_SECONDS", 20)
        grace = read.number("LEASE_GRACE_SECONDS", lease.DEFAULT_GRACE)
        alerts_topic = read.alerts_topic()
        alerts_timeout = read.number("ALERTS_TIMEOUT_SECONDS", 5.0)
        problems = read.problems
        if problems or base is None or match is None:
            raise ValueError("; ".join(problems))
        return cls(
            project=project,
            region=region,
            environment=environment,
            base=base,
            pipeline_root=root,
            service_account=account,
            scheduler_invoker=invoker,
            manual_runs=manual == "allow",
            lease_bucket=match.group(1),
            lease_prefix=(match.group(2) or "").strip("/"),
            lease_grace=grace,
            network=env.get("NETWORK") or None,
            max_body_bytes=max_body,
            latest_ttl=latest_ttl,
            timeout=timeout or 20.0,
            aiplatform_emulator=env.get("AIPLATFORM_EMULATOR_HOST") or None,
            alerts_topic=alerts_topic,
            alerts_timeout=alerts_timeout or 5.0,
        )


class _EnvReader:
    """Reads variables from `env`, collecting every problem instead of stopping at the first."""

    def __init__(self, env: dict[str, str] | os._Environ) -> None:
        self.env = env
        self.problems: list[str] = []

    def number(self, name: str, default: float) -> float:
        raw = self.env.get(name, "")
        try:
            value = float(raw) if raw else default
        except ValueError:
            value = -1.0
        if not 0 <= value < 1e9:
            self.problems.append(f"{name} must be a non-negative number, got '{raw:.40}'")
        return value

    def required(self, name: str, pattern: Any, what: str) -> str:
        value = self.env.get(name, "")
        if not value:
            self.problems.append(f"{name} is not set ({what})")
        elif not pattern.fullmatch(value):
            self.problems.append(f"{name} '{value:.80}' is not {what}")
        return value.rstrip("/")

    def account(self, name: str, what: str) -> str:
        """A service-account e-mail, written as Google issues it: in lower case. The caller's
        e-mail is compared with it exactly (identity.py says why case is not folded)."""
        value = self.env.get(name, "")
        if value and value != value.lower():
            self.problems.append(
                f"{name} '{value:.80}' must be written in lower case, as Google issues "
                "service-account e-mails: callers are compared with it exactly"
            )
            return value
        return self.required(name, ACCOUNT, what)

    def project_and_region(self) -> tuple[str, str]:
        project = self.env.get("PROJECT") or self.env.get("GOOGLE_CLOUD_PROJECT") or ""
        region = self.env.get("REGION", "")
        if not project:
            self.problems.append("PROJECT is not set")
        if not region:
            self.problems.append("REGION is not set")
        return project, region

    def template_base(self) -> Base | None:
        try:
            return parse_base(self.env.get("TEMPLATE_BASE", ""))
        except ValueError as err:
            self.problems.append(str(err))
            return None

    def manual_runs(self) -> str:
        manual = self.env.get("MANUAL_RUNS", "allow")
        if manual not in ("allow", "deny"):
            self.problems.append(f"MANUAL_RUNS must be 'allow' or 'deny', got '{manual:.40}'")
        return manual

    def lease_root(self, root: str) -> re.Match[str] | None:
        """LEASE_ROOT (default: trigger-leases under the pipeline root) split into bucket/path."""
        lease_root = self.env.get("LEASE_ROOT") or (f"{root}/trigger-leases" if root else "")
        match = BUCKET_URI.match(lease_root)
        if lease_root and not match:
            self.problems.append(f"LEASE_ROOT '{lease_root:.80}' is not a gs://BUCKET[/PATH] URI")
        return match

    def alerts_topic(self) -> str:
        topic = self.env.get("ALERTS_TOPIC", "")
        bad_topic = alerting.topic_problem(topic)
        if bad_topic:
            self.problems.append(bad_topic)
        return topic
