"""Declared inputs of a compiled KFP pipeline template, and typing of parameter values against them.

Pure logic with no I/O, shared by `schedule.py validate` (checks a schedule's parameters before
any API call) and the trigger function (types `runtime_config.parameter_values`). It lives in
`trigger/` because the function is deployed as that folder alone and must carry it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: KFP IR parameter types -> a word people understand in error messages.
TYPE_NAMES = {
    "STRING": "string",
    "NUMBER_INTEGER": "integer",
    "NUMBER_DOUBLE": "number",
    "BOOLEAN": "boolean",
    "LIST": "list",
    "STRUCT": "mapping",
}


class ParameterError(ValueError):
    """A parameter value that the pipeline does not accept; `name` says which one."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"parameter '{name}': {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class ParamDecl:
    """One declared pipeline input parameter."""

    name: str
    type: str  # a KFP IR parameterType, e.g. NUMBER_DOUBLE
    optional: bool
    default: Any = None
    description: str = ""

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, self.type.lower())


def declared_parameters(template: dict) -> dict[str, ParamDecl]:
    """The root input parameters a compiled pipeline template (its YAML as a dict) declares."""
    root = template.get("root")
    if not isinstance(root, dict):
        raise ValueError("not a compiled KFP pipeline template: no 'root' section")
    params = (root.get("inputDefinitions") or {}).get("parameters") or {}
    decls = {}
    for name, spec in params.items():
        ptype = spec.get("parameterType", "STRING")
        default = spec.get("defaultValue")
        if ptype == "NUMBER_INTEGER" and isinstance(default, float) and default.is_integer():
            default = int(default)  # the IR stores integer defaults as doubles
        decls[name] = ParamDecl(
            name=name,
            type=ptype,
            optional=bool(spec.get("isOptional", False)) or "defaultValue" in spec,
            default=default,
            description=spec.get("description", ""),
        )
    return decls


def pipeline_name(template: dict) -> str:
    """The pipeline's name as compiled into the template (`pipelineInfo.name`)."""
    return str((template.get("pipelineInfo") or {}).get("name", ""))


def coerce_value(decl: ParamDecl, value: Any) -> Any:
    """`value` converted to the declared type, or ParameterError saying what was expected."""
    t = decl.type
    if t == "STRING":
        if isinstance(value, str):
            return value
    elif t == "BOOLEAN":
        if isinstance(value, bool):
            return value
    elif t == "NUMBER_INTEGER":
        if isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:
                raise ParameterError(decl.name, f"integer out of the 64-bit range: {value!r:.60}")
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif t == "NUMBER_DOUBLE":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise ParameterError(decl.name, f"expected a finite number, got {value!r:.60}")
            return number
    elif t == "LIST":
        if isinstance(value, list):
            return value
    elif t == "STRUCT":
        if isinstance(value, dict):
            return value
    else:
        return value
    raise ParameterError(
        decl.name, f"expected {decl.type_name}, got {_describe(value)} ({value!r:.60})"
    )


def check_parameters(
    decls: dict[str, ParamDecl], values: dict[str, Any]
) -> tuple[dict[str, Any], list[ParameterError]]:
    """Type every value against the declarations.

    Returns the typed values and every problem found (unknown names, wrong types, required
    parameters missing), so callers can report all of them at once.
    """
    typed: dict[str, Any] = {}
    errors: list[ParameterError] = []
    for name, value in values.items():
        decl = decls.get(name)
        if decl is None:
            hint = suggest(name, decls)
            errors.append(
                ParameterError(
                    name,
                    "not declared by the pipeline"
                    + (f"; did you mean '{hint}'?" if hint else "")
                    + f" (declared: {', '.join(sorted(decls)) or 'none'})",
                )
            )
            continue
        try:
            typed[name] = coerce_value(decl, value)
        except ParameterError as err:
            errors.append(err)
    for name, decl in decls.items():
        if not decl.optional and name not in values:
            errors.append(
                ParameterError(name, f"required by the pipeline ({decl.type_name}) but not given")
            )
    return typed, errors


def suggest(word: str, candidates) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
