"""The pipelines, one module each, found by `discover()` (compile.py keeps no list of its own).

A pipeline module defines `NAME` (the pipeline's name) and `build(spark_step)`, which returns
the `@dsl.pipeline` function with its Spark steps made by the given factory.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class PipelineModule:
    """A discovered pipeline module, or the error that importing it raised."""

    module_name: str
    module: ModuleType | None
    error: BaseException | None = None

    @property
    def name(self) -> str:
        if self.module is not None:
            return self.module.NAME
        return self.module_name.replace("_", "-")


def discover() -> list[PipelineModule]:
    """Every module in this package that defines a pipeline, sorted by module name.

    A module that fails to import is returned with its error, so callers can name it.
    """
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        qualified = f"{__name__}.{info.name}"
        try:
            module = importlib.import_module(qualified)
        except Exception as err:  # reported per pipeline by the caller
            found.append(PipelineModule(info.name, None, err))
            continue
        if hasattr(module, "build") and hasattr(module, "NAME"):
            found.append(PipelineModule(info.name, module))
    return found
