"""Which published template a call may run, and reading it (cached per warm instance).

Only templates under the configured base are ever run: `latest`, a version tag, or a full
`gs://` URI that lies under the base. The resolution rules are pure functions; `TemplateStore`
adds the reads (through a `read(bucket, path) -> bytes` callable, so tests and the function
share the logic) and the two caches:

- templates by resolved URI, for the life of the instance (a published version does not change;
  republishing a version with `--force` reaches instances started afterwards), at most
  `max_templates` of them;
- the `latest` pointer for `latest_ttl` seconds only, so a new publish is picked up within that
  time without a redeploy.
"""

from __future__ import annotations

import json
import posixpath
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trigger_request import TriggerError

from contract import naming
from contract import params as pipeline_params
from contract.values import json_depth

LATEST = naming.LATEST
#: What a published template's file is called (`<base>/<version>/templates/<pipeline>.yaml`).
_TEMPLATE_FILE = re.compile(rf"({naming.PIPELINE_NAME.pattern})\.yaml")
#: Nesting a publication's small JSON objects (latest.json, manifest.json) ever needs.
_POINTER_DEPTH = 4


class ObjectNotFoundError(Exception):
    """The object to read does not exist (the `read` callable raises it)."""


@dataclass(frozen=True)
class Base:
    """The allowed template base, `gs://<bucket>/<prefix>` (prefix may be empty)."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}".rstrip("/")

    def path(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


@dataclass(frozen=True)
class TemplateRef:
    """A resolved template: where it is and which published version it belongs to."""

    bucket: str
    path: str
    version: str

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.path}"


@dataclass
class Template:
    """A loaded template and what the function needs from it."""

    ref: TemplateRef
    spec: dict[str, Any]
    name: str
    decls: dict[str, pipeline_params.ParamDecl]
    #: derived forms cached with the template (e.g. the protobuf Struct of `spec`)
    derived: dict[str, Any] = field(default_factory=dict)


def parse_base(uri: str) -> Base:
    """TEMPLATE_BASE as a `Base`, or ValueError saying what is wrong with it."""
    if not uri.startswith("gs://"):
        raise ValueError(f"TEMPLATE_BASE must be a gs:// URI, got '{uri}'")
    bucket, _, prefix = uri[len("gs://") :].partition("/")
    prefix = prefix.strip("/")
    if not bucket or ".." in prefix.split("/"):
        raise ValueError(f"TEMPLATE_BASE must be gs://<bucket>[/<prefix>], got '{uri}'")
    return Base(bucket, prefix)


def check_version(version: str, where: str) -> str:
    """`version` if it is a version tag (`contract.naming.VERSION_TAG`), else 400 naming `where`."""
    if not naming.is_version_tag(version):
        raise TriggerError(
            400,
            f"{where}: '{version:.80}' is not a version tag ({naming.VERSION_TAG_RULE}) nor "
            "'latest' nor a gs:// URI",
        )
    return version


def versioned_ref(base: Base, version: str, pipeline: str) -> TemplateRef:
    """The published layout: <base>/<version>/templates/<pipeline>.yaml."""
    return TemplateRef(base.bucket, base.path(version, "templates", f"{pipeline}.yaml"), version)


def ref_from_uri(base: Base, uri: str) -> TemplateRef:
    """A full template URI: 403 outside the base, 400 for anything under it that is not a
    published template (`manifest.json`, `latest.json`, Spark code, ...)."""
    outside = f"template '{uri:.200}' is outside the allowed base {base.uri}/"
    if not uri.startswith("gs://"):
        raise TriggerError(403, outside + " (only gs:// URIs under the base are run)")
    bucket, _, path = uri[len("gs://") :].partition("/")
    segments = path.split("/")
    if ".." in segments:
        raise TriggerError(403, outside + " ('..' is not allowed in template URIs)")
    path = posixpath.normpath("/" + path).lstrip("/")
    if bucket != base.bucket or not (not base.prefix or path.startswith(base.prefix + "/")):
        raise TriggerError(403, outside)
    rel = path[len(base.prefix) + 1 :] if base.prefix else path
    parts = rel.split("/")
    if not (
        len(parts) == 3
        and naming.is_version_tag(parts[0])
        and parts[1] == "templates"
        and _TEMPLATE_FILE.fullmatch(parts[2])
    ):
        raise TriggerError(
            400,
            f"template '{uri:.200}' is not a published template: expected "
            f"{base.uri}/<version>/templates/<pipeline>.yaml (field 'template')",
        )
    return TemplateRef(bucket, path, parts[0])


def _pointer_version(data: bytes, where: str) -> str:
    """The `version` of a latest.json pointer's bytes; 500 naming `where` when it is anything
    but `{"version": "<tag>"}` (checked before parsing: a deeply nested object would make
    json.loads recurse until it fails)."""
    malformed = f'{where} is malformed: expected {{"version": "..."}}'
    depth = json_depth(data)
    if depth > _POINTER_DEPTH:
        raise TriggerError(500, f"{malformed}, and it nests {depth} levels deep", "error")
    try:
        version = json.loads(data)["version"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise TriggerError(500, malformed, "error") from None
    if not isinstance(version, str):
        raise TriggerError(
            500, f"{where}: 'version' is {type(version).__name__}, not a string", "error"
        )
    return version


def published_pipelines(manifest: bytes) -> list[str]:
    """The pipelines a version's `manifest.json` lists templates of ([] when unreadable)."""
    if json_depth(manifest) > _POINTER_DEPTH:
        return []
    try:
        files = json.loads(manifest)["files"]
        names = [name for name in files if isinstance(name, str)]
    except (ValueError, KeyError, TypeError):
        return []
    out = []
    for name in names:
        folder, _, file = name.partition("/")
        match = _TEMPLATE_FILE.fullmatch(file)
        if folder == "templates" and match:
            out.append(match.group(1))
    return sorted(out)


def load_template(ref: TemplateRef, data: bytes) -> Template:
    """Parse a compiled KFP template (YAML or JSON); 500 if it is not one."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = [d for d in yaml.load_all(data, Loader=loader) if d is not None]
    except yaml.YAMLError as err:
        raise TriggerError(500, f"template {ref.uri} is not valid YAML: {err}", "error") from None
    # A KFP IR file may carry a second document (platform config); the pipeline spec comes first.
    spec = docs[0] if docs else None
    if isinstance(spec, dict) and "pipelineSpec" in spec:  # a PipelineJob JSON, as KFP v1 wrote
        spec = spec["pipelineSpec"]
    try:
        if not isinstance(spec, dict):
            raise ValueError("not a mapping")
        decls = pipeline_params.declared_parameters(spec)
    except ValueError as err:
        raise TriggerError(
            500, f"template {ref.uri} is not a compiled KFP pipeline: {err}", "error"
        ) from None
    return Template(ref, spec, pipeline_params.pipeline_name(spec), decls)


class TemplateStore:
    """Resolves and loads templates under one base, with the caches described above."""

    def __init__(
        self,
        base: Base,
        read: Callable[[str, str], bytes],
        latest_ttl: float = 60.0,
        max_templates: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self._read = read
        self._latest_ttl = latest_ttl
        self._max = max_templates
        self._clock = clock
        self._latest: tuple[float, str] | None = None
        self._templates: OrderedDict[str, Template] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0  # objects read from storage, for tests of the caching

    def resolve(self, template: str, pipeline: str) -> TemplateRef:
        """Where `template` (latest | tag | gs:// URI) of `pipeline` lives."""
        if "://" in template:
            return ref_from_uri(self.base, template)
        if template == LATEST:
            return versioned_ref(self.base, self.latest_version(), pipeline)
        return versioned_ref(self.base, check_version(template, "field 'template'"), pipeline)

    def latest_version(self) -> str:
        """The version latest.json points at, re-read after `latest_ttl` seconds."""
        now = self._clock()
        cached = self._latest
        if cached and now - cached[0] < self._latest_ttl:
            return cached[1]
        path = self.base.path("latest.json")
        data = self._get(path, f"no published 'latest' under {self.base.uri}/")
        version = _pointer_version(data, f"gs://{self.base.bucket}/{path}")
        try:
            check_version(version, f"gs://{self.base.bucket}/{path}")
        except TriggerError as err:
            raise TriggerError(500, err.message, "error") from None
        self._latest = (now, version)
        return version

    def template_for(self, template: str, pipeline: str) -> Template:
        """The template a call names (`resolve`, then `load`), for a pipeline name that is one.

        A name in the wrong case (`Churn-Training`) or otherwise not a pipeline name is 400, and
        a pipeline the version did not publish 404; both answers list what the version did
        publish, so a caller sees the right spelling.
        """
        ref = self.resolve(template, pipeline)
        if not naming.is_pipeline_name(pipeline):
            raise TriggerError(
                400,
                f"field 'pipeline': '{pipeline:.128}' is not a pipeline name (lower-case letters, "
                "digits and '-', as KFP names pipelines; names are case-sensitive); "
                + self._published_text(ref.version, pipeline),
            )
        try:
            return self.load(ref)
        except TriggerError as err:
            if err.status != 404:
                raise
            raise TriggerError(
                404, f"{err.message}; {self._published_text(ref.version, pipeline)}"
            ) from None

    def _published_text(self, version: str, pipeline: str) -> str:
        known = self.pipelines_of(version)
        if not known:
            return f"version '{version}' lists no pipelines (no readable manifest.json)"
        hint = next((k for k in known if k.lower() == pipeline.lower()), None)
        return f"version '{version}' publishes: {', '.join(known)}" + (
            f"; did you mean '{hint}'?" if hint else ""
        )

    def pipelines_of(self, version: str) -> list[str]:
        """The pipelines `version` published (from its manifest.json); [] if it cannot be read.

        Only used to word an answer, so any failure to read gives [] rather than an error.
        """
        try:
            return published_pipelines(self._get(self.base.path(version, "manifest.json"), ""))
        except TriggerError:
            return []

    def load(self, ref: TemplateRef) -> Template:
        """The template at `ref`, from the cache when this instance has read it before."""
        with self._lock:
            cached = self._templates.get(ref.uri)
            if cached is not None:
                self._templates.move_to_end(ref.uri)
                return cached
        hint = f"version '{ref.version}' has no template " if ref.version != "custom" else ""
        template = load_template(ref, self._get(ref.path, f"{hint}{ref.uri} not found", ref.bucket))
        with self._lock:
            self._templates[ref.uri] = template
            while len(self._templates) > self._max:
                self._templates.popitem(last=False)
        return template

    def _get(self, path: str, missing: str, bucket: str | None = None) -> bytes:
        self.reads += 1
        try:
            return self._read(bucket or self.base.bucket, path)
        except ObjectNotFoundError:
            raise TriggerError(404, missing) from None
