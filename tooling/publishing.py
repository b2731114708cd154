"""Publish the vertex templates and the Spark code of one version to GCS, then move `latest`.

Layout under the base URI (what the trigger function and the schedules rely on):

    <base>/<version>/templates/<pipeline>.yaml   vertex templates as one environment runs them
                                                 (its deployment-owned defaults, pipeline root
                                                 and components image); spark_code_uri -> ...
    <base>/<version>/spark/<job>.py              ... this folder: the entry scripts
    <base>/<version>/spark/churn.zip             the shared package, shipped as --py-files
    <base>/<version>/manifest.json               written last: the version is complete
    <base>/latest.json                           {"version": ...}, moved after the manifest
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from components.images import COMPONENTS_IMAGE
from contract import vendor
from contract.environment import Environment, environment_from
from contract.naming import VERSION_TAG_RULE, is_version_tag
from contract.ownership import DEPLOYMENT_PARAMETERS

SPARK_DIR = Path("spark")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class PublishError(Exception):
    """Publishing refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class GcsLocation:
    bucket: str
    prefix: str  # no leading or trailing slash; may be empty

    @classmethod
    def parse(cls, uri: str) -> GcsLocation:
        match = re.fullmatch(r"gs://([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(/.*)?", uri)
        if not match:
            raise PublishError(f"--publish: '{uri}' is not a gs://BUCKET[/PREFIX] URI")
        return cls(match.group(1), (match.group(2) or "").strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def uri(self, *parts: str) -> str:
        return f"gs://{self.bucket}/{self.key(*parts)}"


@dataclass
class Bundle:
    """Everything one version publishes: object key (relative to the version) -> bytes."""

    version: str
    files: dict[str, bytes] = field(default_factory=dict)

    def manifest(self) -> bytes:
        entries = {
            name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.files.items())
        }
        return json.dumps({"version": self.version, "files": entries}, indent=2).encode() + b"\n"


def check_version(version: str) -> str:
    """`version` if it is a version tag (the one rule, `contract.naming.is_version_tag`)."""
    if not is_version_tag(version):
        raise PublishError(
            f"--version '{version}' is not a version tag: use {VERSION_TAG_RULE} ('latest' is "
            "the pointer's name)"
        )
    return version


def spark_package_zip(spark_dir: Path = SPARK_DIR) -> bytes:
    """The `churn` package as a zip whose bytes depend only on the files' contents.

    `churn/contract` is a link to the repository's `contract/` (so `python spark/<job>.py` finds
    it in a checkout, spark/README.md); the zip takes only `vendor.ZIP_MODULES` from it, each
    copied as the trigger's deploy copies its modules, so a batch gets the output manifest's
    format and nothing else of the repository.
    """
    package = spark_dir / "churn"
    files = {
        path.relative_to(spark_dir).as_posix(): path.read_bytes()
        for path in package.rglob("*.py")
        if path.relative_to(package).parts[0] != "contract"
    }
    for name in vendor.ZIP_MODULES:
        files[f"churn/contract/{name}"] = vendor.vendored_text(name).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


ENVIRONMENTS_DIR = Path("schedules/environments")

#: An image in an Artifact Registry docker repository: REGION-docker.pkg.dev/PROJECT/REPO/NAME,
#: by digest (preferred: what runs can never change) or by tag.
_IMAGE = re.compile(
    r"^(?P<region>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])"
    r"/[a-z0-9._-]+(?:/[a-z0-9._-]+)+(?:@sha256:[0-9a-f]{64}|:[A-Za-z0-9._-]{1,128})$"
)


def load_deployment(env: str, environments_dir: Path = ENVIRONMENTS_DIR) -> Environment:
    """The deployment that `<environments_dir>/<env>.yaml` describes, or PublishError."""
    path = environments_dir / f"{env}.yaml"
    if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", env) or not path.is_file():
        known = sorted(p.stem for p in environments_dir.glob("*.yaml"))
        raise PublishError(f"--env '{env}': no {path}; known: {', '.join(known) or 'none'}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise PublishError(f"{path}: not readable YAML: {err}") from None
    deployment, problems = environment_from(env, data)
    if deployment is None:
        details = "; ".join(f"{'.'.join(p.path) or '(file)'}: {p.message}" for p in problems)
        raise PublishError(f"{path}: {details} (run `python schedule.py validate`)")
    return deployment


def check_components_image(image: str, deployment: Environment) -> str:
    """`image` if it is an Artifact Registry image of the environment's own project."""
    match = _IMAGE.match(image or "")
    if not match:
        raise PublishError(
            f"--components-image '{image}': expected REGION-docker.pkg.dev/PROJECT/REPO/NAME"
            "@sha256:DIGEST (or :TAG), the image the deploy flow built from "
            "images/components/Dockerfile"
        )
    if match.group("project") != deployment.project:
        raise PublishError(
            f"--components-image '{image}' is in project '{match.group('project')}', not "
            f"environment '{deployment.name}''s '{deployment.project}': each environment runs "
            "only images from its own registry"
        )
    return image


def for_environment(
    template_text: str, code_uri: str, deployment: Environment, components_image: str
) -> bytes:
    """The template as `deployment` runs it: an edit of the parsed template, not of its text.

    - every deployment-owned parameter it declares defaults to the environment's value, and
      `spark_code_uri` to the Spark code published beside it (contract/ownership.py: a request
      cannot set these, so the defaults are what runs);
    - `defaultPipelineRoot` is the environment's pipeline root (Vertex requires a root);
    - every lightweight step runs in `components_image`.
    """
    spec = yaml.safe_load(template_text)
    params = spec["root"]["inputDefinitions"]["parameters"]
    if "spark_code_uri" not in params:
        raise PublishError("template declares no 'spark_code_uri' parameter")
    values = {**deployment.parameter_defaults(), "spark_code_uri": code_uri}
    for name in DEPLOYMENT_PARAMETERS & set(params):
        params[name]["defaultValue"] = values[name]
        params[name]["isOptional"] = True
    spec["defaultPipelineRoot"] = deployment.pipeline_root
    for executor in spec.get("deploymentSpec", {}).get("executors", {}).values():
        container = executor.get("container") or {}
        if container.get("image") == COMPONENTS_IMAGE:
            container["image"] = components_image
    return yaml.safe_dump(spec, sort_keys=True).encode()


def build_bundle(
    location: GcsLocation,
    version: str,
    templates: dict[str, str],
    deployment: Environment,
    components_image: str,
    spark_dir: Path = SPARK_DIR,
) -> Bundle:
    """The files of one version for one environment: its templates and the Spark code."""
    bundle = Bundle(version)
    code_uri = location.uri(version, "spark")
    for name, text in sorted(templates.items()):
        bundle.files[f"templates/{name}.yaml"] = for_environment(
            text, code_uri, deployment, components_image
        )
    for script in sorted(spark_dir.glob("*.py")):
        bundle.files[f"spark/{script.name}"] = script.read_bytes()
    bundle.files["spark/churn.zip"] = spark_package_zip(spark_dir)
    return bundle


def publish(
    location: GcsLocation, bundle: Bundle, *, force: bool = False, client=None
) -> list[str]:
    """Upload a bundle under <base>/<version>/, then move latest.json; returns the URIs written.

    Refuses when the version already has a manifest (it is complete) unless `force`. The
    manifest is uploaded after every other file and latest.json after the manifest, so a failed
    upload never leaves `latest` pointing at a partial version.
    """
    from google.cloud import storage  # imported here: compiling alone never needs it

    client = client or storage.Client()
    bucket = client.bucket(location.bucket)
    manifest_key = location.key(bundle.version, "manifest.json")
    if bucket.blob(manifest_key).exists() and not force:
        raise PublishError(
            f"version '{bundle.version}' already exists at {location.uri(bundle.version)}/; "
            "publish a new version, or pass --force to overwrite it"
        )
    written = []
    for name, data in sorted(bundle.files.items()):
        key = location.key(bundle.version, name)
        content_type = "application/x-yaml" if name.endswith(".yaml") else None
        bucket.blob(key).upload_from_string(data, content_type=content_type)
        written.append(f"gs://{location.bucket}/{key}")
    bucket.blob(manifest_key).upload_from_string(bundle.manifest(), content_type="application/json")
    written.append(f"gs://{location.bucket}/{manifest_key}")
    latest_key = location.key("latest.json")
    pointer = json.dumps({"version": bundle.version}).encode() + b"\n"
    bucket.blob(latest_key).upload_from_string(pointer, content_type="application/json")
    written.append(f"gs://{location.bucket}/{latest_key}")
    return written


def _registry(host: str):
    from kfp.registry import RegistryClient

    if not re.match(r"^https?://[^/]+/.+", host):
        raise PublishError(
            f"--registry '{host}': expected https://REGION-kfp.pkg.dev/PROJECT/REPOSITORY"
        )
    return RegistryClient(host=host)


def _registry_templates(bundle: Bundle) -> dict[str, bytes]:
    """The bundle's templates by package name (the pipeline name the registry files them under)."""
    return {
        yaml.safe_load(data)["pipelineInfo"]["name"]: data
        for name, data in sorted(bundle.files.items())
        if name.startswith("templates/")
    }


def _has_tag(client, package: str, tag: str) -> bool:
    import requests

    try:
        client.get_tag(package, tag)
    except requests.HTTPError as err:
        if err.response is not None and err.response.status_code == 404:
            return False
        raise
    return True


def registry_conflicts(host: str, bundle: Bundle) -> list[str]:
    """The packages in the registry that already carry this version's tag."""
    import requests

    client = _registry(host)
    try:
        return [p for p in _registry_templates(bundle) if _has_tag(client, p, bundle.version)]
    except requests.RequestException as err:
        raise PublishError(f"registry {host}: {err}") from err


def publish_to_registry(host: str, bundle: Bundle, *, force: bool = False) -> list[str]:
    """Upload the bundle's templates to a Kubeflow pipeline registry (Artifact Registry).

    Each template becomes a version of the package named after its pipeline, tagged with the
    version; then each package's `latest` tag moves to it. The templates are the GCS bundle's,
    so they run the Spark code published there. Call `registry_conflicts` first to refuse before
    anything is written anywhere.
    """
    import tempfile

    import requests

    client = _registry(host)
    try:
        existing = set(registry_conflicts(host, bundle))
        if existing and not force:
            raise PublishError(
                f"version '{bundle.version}' already exists in {host} for: "
                f"{', '.join(sorted(existing))}; publish a new version, or pass --force"
            )
        uploaded = []
        for package, data in _registry_templates(bundle).items():
            if package in existing:
                client.delete_tag(package, bundle.version)
            with tempfile.NamedTemporaryFile(suffix=".yaml") as tmp:
                tmp.write(data)
                tmp.flush()
                _, digest = client.upload_pipeline(tmp.name, tags=[bundle.version])
            uploaded.append((package, digest))
        written = []
        for package, digest in uploaded:
            if _has_tag(client, package, "latest"):
                client.update_tag(package, digest, "latest")
            else:
                client.create_tag(package, digest, "latest")
            written.append(f"{host}/{package}:{bundle.version} ({digest[:19]}...)")
        return written
    except requests.RequestException as err:
        raise PublishError(f"registry {host}: {err}") from err
