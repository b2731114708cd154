"""A model registry for Spark models on Cloud Storage or a local folder (issue 11).

Layout under a registry root (`models_uri`):

    <model>/versions/<version>/model/...        the Spark PipelineModel, copied object by object
    <model>/versions/<version>/metrics.json     the evaluation of that model
    <model>/versions/<version>/model_meta.json  lineage: data, pipeline job, code, Spark, schema
    <model>/versions/<version>/manifest.json    written LAST: a version without it does not exist
    <model>/aliases/<alias>.json                a pointer {version, previous, who, why, when}
    <model>/history/<alias>/<stamp>-<id>.json   one object per alias move, never rewritten

Versions are immutable (every object is created with "only if absent"); an alias moves by one
pointer write with a generation precondition, so two promotions racing cannot both win and a
reader never sees half a model. The same code serves the pipeline steps and `models.py`.
"""

from model_registry.errors import (
    ConflictError,
    MalformedRecordError,
    NotFoundError,
    RegistryError,
)
from model_registry.layout import DEFAULT_ALIAS, default_local_registry, parse_ref
from model_registry.registry import Registry, open_registry

__all__ = [
    "DEFAULT_ALIAS",
    "ConflictError",
    "MalformedRecordError",
    "NotFoundError",
    "Registry",
    "RegistryError",
    "default_local_registry",
    "open_registry",
    "parse_ref",
]
