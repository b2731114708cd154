"""The model of an environment file, `schedules/environments/<env>.yaml`: every key, checked once.

`environment_from(name, data)` turns the parsed file into an `Environment` plus every problem
found, each with the key path it is about (so `schedule.py validate` and the setup can put it on
a line). Everything that reads the file goes through it: the reconciler (`scheduling/spec.py`
adds only that jobs need a `trigger_url`), `compile.py --publish` (the values of the
deployment-owned pipeline parameters, `parameter_defaults`), the setup (`infra/envfile.py`: the
buckets, accounts, network and the trigger it creates, grants and checks) and CI's image names.
A new key is a field, a reader and a line in `KEYS` here, and nowhere else.

Identity model (README "Identities"): one service account, `service_accounts.pipelines`, runs
the PipelineJobs *and* is the Dataproc batches' service account. On runtime 3.0+ the Spark
workload reaches Cloud Storage as the batch's creator (END_USER_CREDENTIALS), which is the
pipeline's identity anyway; on the 2.x runtimes it runs as the batch's service account, the same
account. So one account needs the data grants, whichever runtime a template requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.logical_dates import template_problems
from contract.ownership import (
    DEPLOYMENT_PARAMETERS,
    RELATIVE_PATH_PARAMETERS,
    check_relative_path,
    refusal,
)
from contract.params import suggest

#: How validators report a problem: (path of the field, message).
_Bad = Callable[[tuple[str, ...], str], None]

#: Every key an environment file may hold; any other is refused (with the closest as a hint).
KEYS = (
    "project",
    "region",
    "trigger_url",
    "template_base",
    "pipeline_root",
    "job_prefix",
    "service_accounts",
    "locations",
    "dataproc",
    "bigquery_dataset",
    "vertex_model_registry",
    "alerts",
    "parameters",
)

ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]$")
BUCKET_URI = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])(/[A-Za-z0-9._/-]*)?$")
ACCOUNT = re.compile(
    r"^([a-z][a-z0-9-]{4,28}[a-z0-9])@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$"
)
SUBNETWORK = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
IMAGE = re.compile(
    r"^[a-z0-9.-]+(?::[0-9]+)?(?:/[a-z0-9._-]+)+(?::[A-Za-z0-9._-]{1,128}|@sha256:[0-9a-f]{64})$"
)
BQ_DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
#: A Pub/Sub topic id (Pub/Sub's rule: 3-255 of letters, digits, - _ . ~ + %, starting with a
#: letter, not starting with "goog").
TOPIC_ID = re.compile(r"^(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
RUNTIME_VERSION = re.compile(r"^[0-9]+\.[0-9]+$")
#: What a Cloud Scheduler job id may hold (Job.name: letters, digits, hyphens, underscores); the
#: prefix is the start of every job id of the environment.
JOB_PREFIX = re.compile(r"^[A-Za-z0-9_-]*$")
#: A DNS host name (RFC 1123 labels), as the trigger's URL names it.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
#: The trigger's URL: `https://HOST[:PORT][/PATH]`, or plain http to this machine only, for local
#: trials against the fakes. Cloud Scheduler sends jobs there and uses it as the OIDC audience,
#: which Cloud Run compares with its service URL whole, so no user, query or fragment.
_TRIGGER_URL = re.compile(
    r"^(?P<scheme>https|http)://(?P<host>[^/:?#@\s]+)(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^?#\s]*)?$"
)
_LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: HttpTarget.uri (Cloud Scheduler API reference): "The maximum allowed URL length is 2083
#: characters after encoding".
MAX_TRIGGER_URL = 2083
#: Vertex AI's prebuilt prediction containers ("Prebuilt containers for inference", Vertex AI
#: docs): `{us,europe,asia}-docker.pkg.dev/vertex-ai/prediction/<framework>-<cpu|gpu>.<version>`
#: (TensorFlow, scikit-learn, XGBoost, PyTorch; `vertex-ai-restricted/prediction` for VPC-SC
#: projects) and the older `gcr.io/cloud-aiplatform/prediction/...`. Each loads only its own
#: framework's model format, never a Spark MLlib PipelineModel.
PREBUILT_PREDICTION_IMAGE = re.compile(
    r"^(?:(?:us|europe|asia)-docker\.pkg\.dev/vertex-ai(?:-restricted)?/prediction/"
    r"|(?:[a-z]+\.)?gcr\.io/cloud-aiplatform/prediction/)"
)

#: Roles of the accounts an environment names (keys of `service_accounts`).
ACCOUNT_ROLES = {
    "pipelines": "runs the PipelineJobs and the Dataproc batches (Spark)",
    "invoker": "Cloud Scheduler's OIDC identity when it calls the trigger",
    "trigger": "the trigger function's runtime identity (creates PipelineJobs)",
}
#: Named locations (keys of `locations`) and what the pipelines do there.
LOCATION_ROLES = {
    "data": "raw snapshots and customer files, read by Spark",
    "predictions": "scoring results, written by Spark",
    "models": "model versions and aliases, written by training, read by scoring",
}
DEFAULT_RUNTIME = "3.0"


@dataclass(frozen=True)
class EnvProblem:
    """One problem in an environment file: the key path it is about and what is wrong."""

    path: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Environment:
    """One checked environment file: what it decides, each key once.

    The deployment-owned part (project, identities, locations, Dataproc) becomes the published
    templates' parameter defaults and the setup's resources; `trigger_url` and `job_prefix` are
    what Cloud Scheduler jobs need; `parameters` are schedule-owned defaults that every schedule
    of the environment inherits unless it sets them itself.
    """

    name: str
    project: str
    region: str
    template_base: str
    pipeline_root: str
    service_accounts: dict[str, str]
    locations: dict[str, str]
    #: the trigger's Cloud Run URL ('' until it is deployed: the setup's first run needs none)
    trigger_url: str = ""
    #: Cloud Scheduler job id = job_prefix + schedule file name
    job_prefix: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    runtime_version: str = DEFAULT_RUNTIME
    subnetwork: str = ""
    spark_properties: dict[str, str] = field(default_factory=dict)
    container_image: str = ""
    bigquery_dataset: str = ""
    #: Pub/Sub topic id (in this project) failure alerts go to ('' = no alerts)
    alerts_topic_id: str = ""
    #: serving image of Vertex AI Model Registry uploads ('' = versions are not mirrored there)
    serving_image: str = ""

    @property
    def parent(self) -> str:
        """`projects/P/locations/R`: where the environment's jobs and pipeline runs live."""
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def invoker_service_account(self) -> str:
        """The account Cloud Scheduler calls the trigger as (its OIDC token's identity)."""
        return self.service_accounts["invoker"]

    @property
    def alerts_topic(self) -> str:
        """`projects/P/topics/T` of the failure alerts ('' = this environment sends none)."""
        return (
            f"projects/{self.project}/topics/{self.alerts_topic_id}" if self.alerts_topic_id else ""
        )

    @property
    def bq_dataset(self) -> str:
        """`project.dataset` of the warehouse tables ('' = this environment loads none)."""
        return f"{self.project}.{self.bigquery_dataset}" if self.bigquery_dataset else ""

    @property
    def subnetwork_uri(self) -> str:
        if not self.subnetwork:
            return ""
        return f"projects/{self.project}/regions/{self.region}/subnetworks/{self.subnetwork}"

    def buckets(self) -> dict[str, str]:
        """Every bucket this environment uses, by what it holds."""
        uris = {
            "templates": self.template_base,
            "pipeline_root": self.pipeline_root,
            **{f"location:{k}": v for k, v in self.locations.items()},
        }
        return {what: bucket_of(uri) for what, uri in uris.items()}

    def parameter_defaults(self) -> dict[str, Any]:
        """Values of the deployment-owned pipeline parameters (not spark_code_uri, which the
        publishing step sets to its version's folder)."""
        values = {
            "runtime_version": self.runtime_version,
            "container_image": self.container_image,
            "spark_properties": dict(self.spark_properties),
            "service_account": self.service_accounts["pipelines"],
            "subnetwork_uri": self.subnetwork_uri,
            "spark_history_cluster": "",
            "data_uri": self.locations["data"],
            "models_uri": self.locations["models"],
            "predictions_uri": self.locations["predictions"],
            "environment": self.name,
            "region": self.region,
            "bq_dataset": self.bq_dataset,
            "alerts_topic": self.alerts_topic,
            "project": self.project,
            "serving_image": self.serving_image,
        }
        assert set(values) | {"spark_code_uri"} == DEPLOYMENT_PARAMETERS
        return values


def _alerts_topic(data: dict[str, Any], bad) -> str:
    """`alerts: {pubsub_topic: ID}`: the topic id failure alerts are published to (optional)."""
    alerts = data.get("alerts")
    if alerts is None:
        return ""
    if not isinstance(alerts, dict):
        bad(("alerts",), "must be a mapping, e.g. {pubsub_topic: churn-alerts}")
        return ""
    for key in alerts:
        if key != "pubsub_topic":
            bad(("alerts", str(key)), f"unknown key '{key}' (known: pubsub_topic)")
    topic = alerts.get("pubsub_topic") or ""
    if not isinstance(topic, str) or (topic and not TOPIC_ID.match(topic)):
        bad(
            ("alerts", "pubsub_topic"),
            f"{topic!r:.80} is not a Pub/Sub topic id of this project (3-255 letters, digits, "
            "- _ . ~ + %, starting with a letter; the topic lives in the environment's project)",
        )
        return ""
    return topic


def _serving_image(data: dict[str, Any], bad) -> str:
    """`vertex_model_registry: {serving_image: IMAGE}` (optional): mirror versions to Vertex.

    Vertex AI refuses a model upload without a serving container, so the mirror runs only in
    environments that name one. It must be a custom container that loads a Spark PipelineModel
    (Vertex AI "Custom container requirements for inference": an HTTP server on AIP_HTTP_PORT
    answering AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE, reading the model from AIP_STORAGE_URI);
    Vertex's prebuilt prediction images serve TensorFlow, scikit-learn, XGBoost and PyTorch
    models only, so one named here is refused.
    """
    section = data.get("vertex_model_registry")
    if section is None:
        return ""
    if not isinstance(section, dict):
        bad(("vertex_model_registry",), "must be a mapping, e.g. {serving_image: IMAGE}")
        return ""
    for key in section:
        if key != "serving_image":
            bad(("vertex_model_registry", str(key)), f"unknown key '{key}' (known: serving_image)")
    image = section.get("serving_image") or ""
    if not isinstance(image, str) or (image and not IMAGE.match(image)):
        bad(
            ("vertex_model_registry", "serving_image"),
            f"{image!r:.80} is not a container image reference (HOST/PATH:TAG or @sha256:DIGEST)",
        )
        return ""
    if PREBUILT_PREDICTION_IMAGE.match(image):
        bad(
            ("vertex_model_registry", "serving_image"),
            f"'{image:.120}' is one of Vertex AI's prebuilt prediction containers (TensorFlow, "
            "scikit-learn, XGBoost, PyTorch), none of which loads a Spark MLlib PipelineModel: "
            "name a custom serving container that loads one (Vertex AI custom container "
            "requirements for inference)",
        )
        return ""
    return image


def bucket_of(uri: str) -> str:
    """The bucket name of a gs:// URI ('' when it is not one)."""
    match = BUCKET_URI.match(uri or "")
    return match.group(1) if match else ""


def _check_accounts(accounts: dict[str, str], project: str, bad: _Bad) -> None:
    """Each service account must be an e-mail of this environment's own project."""
    for role, email in accounts.items():
        match = ACCOUNT.match(email)
        if not match:
            bad(("service_accounts", role), f"'{email}' is not a service account e-mail")
        elif match.group(2) != project:
            bad(
                ("service_accounts", role),
                f"'{email}' belongs to project '{match.group(2)}', not this environment's "
                f"'{project}': an environment only uses accounts its own setup creates",
            )


def _dataproc_section(data: dict[str, Any], bad: _Bad) -> dict[str, Any]:
    """The `dataproc` mapping ({} when absent or not a mapping), unknown keys reported."""
    dataproc = data.get("dataproc") or {}
    if not isinstance(dataproc, dict):
        bad(("dataproc",), "must be a mapping")
        return {}
    for key in dataproc:
        if key not in ("runtime_version", "subnetwork", "spark_properties", "container_image"):
            bad(
                ("dataproc", str(key)),
                f"unknown key '{key}' (allowed: runtime_version, subnetwork, "
                "spark_properties, container_image)",
            )
    return dataproc


def _dataproc_settings(data: dict[str, Any], bad: _Bad) -> tuple[str, str, dict[str, str], str]:
    """(runtime version, subnetwork, Spark properties, container image) of `dataproc`."""
    dataproc = _dataproc_section(data, bad)
    runtime = str(dataproc.get("runtime_version", DEFAULT_RUNTIME))
    if not RUNTIME_VERSION.match(runtime):
        bad(
            ("dataproc", "runtime_version"), f"'{runtime}' is not a runtime version like 3.0 or 2.3"
        )
    subnetwork = str(dataproc.get("subnetwork", "") or "")
    if subnetwork and not SUBNETWORK.match(subnetwork):
        bad(("dataproc", "subnetwork"), f"'{subnetwork}' is not a subnetwork name")
    properties = dataproc.get("spark_properties") or {}
    if not isinstance(properties, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in properties.items()
    ):
        bad(("dataproc", "spark_properties"), "must map property names to string values")
        properties = {}
    image = str(dataproc.get("container_image", "") or "")
    return runtime, subnetwork, dict(properties), image


def _bigquery_dataset(data: dict[str, Any], bad: _Bad) -> str:
    """The optional `bigquery_dataset` id ('' when absent or invalid)."""
    dataset = data.get("bigquery_dataset", "")
    if dataset is None:
        dataset = ""
    if not isinstance(dataset, str) or (dataset and not BQ_DATASET.match(dataset)):
        bad(
            ("bigquery_dataset",),
            f"{dataset!r:.80} is not a BigQuery dataset id (letters, digits, underscores; "
            "at most 1024)",
        )
        return ""
    return dataset


def _check_identity(name: str, data: dict[str, Any], bad: _Bad) -> tuple[str, str]:
    """(project, region) of the environment, its name, project and region checked."""
    if not ENV_NAME.match(name):
        bad(
            (),
            f"environment name '{name}' must be 1-10 lowercase letters or digits, "
            "starting with a letter",
        )
    project = _text(data, "project")
    if not PROJECT.match(project):
        bad(("project",), f"'{project}' is not a Google Cloud project id")
    region = _text(data, "region")
    if not REGION.match(region):
        bad(("region",), f"'{region}' is not a Google Cloud region (e.g. europe-west4)")
    return project, region


def _unknown_keys(data: dict[Any, Any], bad: _Bad) -> None:
    """Keys the file may not hold, each with the closest known key as a hint (a typo'd key
    would otherwise be a setting silently left at its default). Keys that are not strings are
    the YAML reader's to report, with their line."""
    for key in data:
        if isinstance(key, str) and key not in KEYS:
            hint = suggest(key, KEYS)
            bad(
                (key,),
                f"unknown key '{key}' in an environment"
                + (f"; did you mean '{hint}'?" if hint else "")
                + f" (allowed: {', '.join(KEYS)})",
            )


def _trigger_url(data: dict[str, Any], bad: _Bad) -> str:
    """The trigger's URL ('' when absent: the reconciler, which needs one, says so)."""
    value = data.get("trigger_url")
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        bad(("trigger_url",), f"'trigger_url' must be a non-empty string, got {value!r:.60}")
        return ""
    url = value.strip()
    unfit = trigger_url_problem(url)
    if unfit:
        bad(("trigger_url",), f"'trigger_url' must be an https:// URL, got {url!r:.80}: {unfit}")
        return ""
    return url


def trigger_url_problem(url: str) -> str:
    """Why `url` cannot be the trigger's URL ('' when it can).

    Cloud Scheduler POSTs to it (HttpTarget.uri: http:// or https://, at most 2083 characters)
    and sends it as the OIDC audience, which Cloud Run accepts only when it is the service's own
    URL or a custom audience; the setup derives the function's name from its host. Plain http
    would send the token in clear, so it is accepted only to this machine (local trials).
    """
    if len(url) > MAX_TRIGGER_URL:
        return f"it is {len(url)} characters; Cloud Scheduler takes at most {MAX_TRIGGER_URL}"
    match = _TRIGGER_URL.match(url)
    if not match:
        return "write https://HOST[:PORT][/PATH], without user, query or fragment"
    host, port = match.group("host"), match.group("port")
    if match.group("scheme") == "http" and host not in _LOCAL_HOSTS:
        return "plain http only to 127.0.0.1 or localhost (local trials); the cloud needs https"
    if not _HOST.match(host):
        return f"'{host:.80}' is not a host name"
    if port is not None and not 0 < int(port) < 65536:
        return f"port {port} is outside 1-65535"
    return ""


def _job_prefix(data: dict[str, Any], bad: _Bad) -> str:
    """The start of every Cloud Scheduler job id of the environment ('' when absent)."""
    prefix = data.get("job_prefix")
    if prefix is None:
        return ""
    if not isinstance(prefix, str) or not JOB_PREFIX.match(prefix):
        bad(("job_prefix",), "'job_prefix' may only use letters, digits, '-' and '_'")
        return ""
    return prefix


def _parameters(data: dict[str, Any], bad: _Bad) -> dict[str, Any]:
    """The schedule-owned defaults every schedule inherits, held to the rules a schedule's own
    values meet (which pipeline declares them is checked against the compiled templates)."""
    value = data.get("parameters")
    if value is None:
        return {}
    if not isinstance(value, dict):
        bad(("parameters",), "'parameters' must be a mapping of name: value")
        return {}
    parameters = {k: v for k, v in value.items() if isinstance(k, str)}
    for key, item in parameters.items():
        for problem in parameter_problems(key, item):
            bad(("parameters", key), problem)
    return parameters


def parameter_problems(key: str, value: Any) -> list[str]:
    """Why `value` may not be given for the schedule-owned parameter `key`, in an environment's
    defaults or a schedule alike: its owner is another, an unsafe data path, a placeholder the
    trigger does not fill in."""
    refused = refusal(key)
    if refused:
        return [f"parameter {refused}"]
    problems = []
    if key in RELATIVE_PATH_PARAMETERS and isinstance(value, str):
        unsafe = check_relative_path(value)
        if unsafe:
            problems.append(f"parameter '{key}' {value!r:.80} {unsafe}")
    if isinstance(value, str):
        problems += [f"parameter '{key}': {p}" for p in template_problems(value)]
    return problems


def environment_from(name: str, data: Any) -> tuple[Environment | None, list[EnvProblem]]:
    """The environment a parsed file describes, or None with every problem found."""
    problems: list[EnvProblem] = []

    def bad(path: tuple[str, ...], message: str) -> None:
        problems.append(EnvProblem(path, message))

    if not isinstance(data, dict):
        bad((), "an environment file must be a mapping (project, region, trigger_url, ...)")
        return None, problems
    _unknown_keys(data, bad)
    project, region = _check_identity(name, data, bad)
    trigger_url = _trigger_url(data, bad)
    job_prefix = _job_prefix(data, bad)
    parameters = _parameters(data, bad)
    template_base = _gs(data, ("template_base",), bad)
    pipeline_root = _gs(data, ("pipeline_root",), bad)
    accounts = _mapping(data, "service_accounts", ACCOUNT_ROLES, bad)
    _check_accounts(accounts, project, bad)
    locations = _mapping(data, "locations", LOCATION_ROLES, bad)
    for role in locations:
        locations[role] = _gs(data, ("locations", role), bad).rstrip("/")
    runtime, subnetwork, properties, image = _dataproc_settings(data, bad)
    dataset = _bigquery_dataset(data, bad)
    topic = _alerts_topic(data, bad)
    serving_image = _serving_image(data, bad)

    _check_template_bucket(template_base, pipeline_root, locations, bad)

    if problems:
        return None, problems
    environment = Environment(
        name=name,
        project=project,
        region=region,
        template_base=template_base.rstrip("/"),
        pipeline_root=pipeline_root.rstrip("/"),
        service_accounts=accounts,
        locations=locations,
        trigger_url=trigger_url,
        job_prefix=job_prefix,
        parameters=parameters,
        runtime_version=runtime,
        subnetwork=subnetwork,
        spark_properties=properties,
        container_image=image,
        bigquery_dataset=dataset,
        alerts_topic_id=topic,
        serving_image=serving_image,
    )
    return environment, problems


def _check_template_bucket(
    template_base: str, pipeline_root: str, locations: dict[str, str], bad: _Bad
) -> None:
    """The templates, Spark code and `latest` live in a bucket no other use shares.

    Runtime accounts read that bucket and write the others; IAM grants a role on a whole bucket
    (infra/README.md "Least privilege"), so a shared bucket would let the account that runs
    Spark overwrite the code the next fire runs.
    """
    bucket = bucket_of(template_base)
    if not bucket:
        return
    others = {"pipeline_root": bucket_of(pipeline_root)}
    others.update({f"locations.{k}": bucket_of(v) for k, v in locations.items()})
    shared = [key for key, other in others.items() if other == bucket]
    if shared:
        bad(
            ("template_base",),
            f"bucket '{bucket}' also holds {', '.join(shared)}: templates, Spark code and "
            "'latest' need a bucket of their own, so that the runtime accounts can read it "
            "without being able to write it (e.g. gs://<project>-templates/templates)",
        )


def cross_environment_problems(
    environments: list[Environment],
) -> list[tuple[str, EnvProblem]]:
    """Resources two environments share (projects, buckets): (environment, problem) pairs.

    dev and prod must never read or write each other's data, models or run folders, so no
    bucket and no project may appear in two environments.
    """
    problems: list[tuple[str, EnvProblem]] = []
    seen: dict[str, str] = {}
    for dep in environments:
        if dep.project in seen and seen[dep.project] != dep.name:
            problems.append(
                (
                    dep.name,
                    EnvProblem(
                        ("project",),
                        f"project '{dep.project}' is also environment '{seen[dep.project]}''s",
                    ),
                )
            )
        seen.setdefault(dep.project, dep.name)
    owners: dict[str, str] = {}
    for dep in environments:
        for what, bucket in dep.buckets().items():
            other = owners.get(bucket)
            if other is not None and other != dep.name:
                path = (
                    ("locations", what.split(":", 1)[1])
                    if what.startswith("location:")
                    else (what,)
                )
                problems.append(
                    (
                        dep.name,
                        EnvProblem(
                            path, f"bucket '{bucket}' is also used by environment '{other}'"
                        ),
                    )
                )
            owners.setdefault(bucket, dep.name)
    return problems


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _gs(data: dict[str, Any], path: tuple[str, ...], bad) -> str:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if (
        not isinstance(value, str)
        or not BUCKET_URI.match(value)
        or "/../" in value + "/"
        or "/./" in value + "/"
    ):
        bad(path, f"must be a gs://BUCKET[/PATH] URI, got {value!r:.80}")
        return ""
    return value


def _mapping(data: dict[str, Any], key: str, roles: dict[str, str], bad) -> dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict):
        bad((key,), f"missing or not a mapping; expected keys: {', '.join(roles)}")
        return {}
    out: dict[str, str] = {}
    for role in roles:
        if role not in value:
            bad((key,), f"missing '{role}' ({roles[role]})")
        else:
            out[role] = value[role] if isinstance(value[role], str) else ""
    for extra in value:
        if extra not in roles:
            bad((key, str(extra)), f"unknown key '{extra}' (allowed: {', '.join(roles)})")
    return out
