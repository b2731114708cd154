"""Declared inputs of a compiled KFP pipeline template, and typing of parameter values against them.

Pure logic with no I/O, shared by `schedule.py validate` (checks a schedule's parameters before
any API call), `compile.py`/`run.py` and the trigger function (types
`runtime_config.parameter_values`; deployed with a copy of this package, made by `contract.vendor`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract.ownership import RELATIVE_PATH_PARAMETERS, check_relative_path, refusal
from contract.parameter_ranges import range_problems
from contract.values import SAFE_INTEGER, value_problems

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


def _checked_value(decl: ParamDecl, value: Any) -> Any:
    """`value` itself when it can travel unchanged, else ParameterError listing why not."""
    problems = value_problems(value, "value")
    if problems:
        raise ParameterError(decl.name, "; ".join(problems))
    return value


def _is_number(value: Any) -> bool:
    # bool is an int subclass, but true/false is never a number a user meant to pass.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: Per declared type: does a value have the right shape, and how is it converted then.
_COERCERS: dict[str, tuple[Callable[[Any], bool], Callable[[ParamDecl, Any], Any]]] = {
    "STRING": (lambda v: isinstance(v, str), _checked_value),
    "BOOLEAN": (lambda v: isinstance(v, bool), lambda _decl, v: v),
    "NUMBER_INTEGER": (_is_number, lambda decl, v: _integer(decl.name, v)),
    "NUMBER_DOUBLE": (_is_number, lambda decl, v: _double(decl.name, v)),
    "LIST": (lambda v: isinstance(v, list), _checked_value),
    "STRUCT": (lambda v: isinstance(v, dict), _checked_value),
}


def coerce_value(decl: ParamDecl, value: Any) -> Any:
    """`value` converted to the declared type, or ParameterError saying what was expected."""
    coercer = _COERCERS.get(decl.type)
    if coercer is None:
        return value  # a type this contract does not know is passed through untouched
    fits, convert = coercer
    if fits(value):
        return convert(decl, value)
    raise ParameterError(
        decl.name, f"expected {decl.type_name}, got {_describe(value)} ({_show(value)})"
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


def check_caller_parameters(
    decls: dict[str, ParamDecl], values: dict[str, Any]
) -> tuple[dict[str, Any], list[ParameterError]]:
    """`check_parameters` for values from a schedule file or a request body.

    On top of typing: a deployment-owned parameter is refused whatever its value (code, image,
    identity and locations come from the published template's defaults), and a path relative to
    an environment location must stay under it.
    """
    allowed: dict[str, Any] = {}
    errors: list[ParameterError] = []
    for name, value in values.items():
        why = refusal(name)
        if why:
            errors.append(ParameterError(name, why))
        elif name in RELATIVE_PATH_PARAMETERS and name in decls:
            problem = check_relative_path(value)
            if problem:
                errors.append(ParameterError(name, f"{value!r:.80} {problem}"))
            else:
                allowed[name] = value
        else:
            allowed[name] = value
    refused = {e.name for e in errors}
    typed, more = check_parameters(decls, allowed)
    # a refused parameter is not also "required but not given"
    errors += [e for e in more if e.name not in refused]
    errors += range_errors(decls, typed)
    return typed, errors


def range_errors(decls: dict[str, ParamDecl], typed: dict[str, Any]) -> list[ParameterError]:
    """A ParameterError for every typed value outside its documented range
    (`contract.parameter_ranges`); schedule files and request bodies are held to them."""
    return [ParameterError(name, problem) for name, problem in range_problems(decls, typed)]


def _integer(name: str, value: int | float) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise ParameterError(name, f"expected integer, got number ({value!r:.60})")
    if not -SAFE_INTEGER <= value <= SAFE_INTEGER:
        raise ParameterError(
            name,
            f"integer {_show(value)} is outside ±2**53: Vertex AI carries numbers as doubles, "
            "so it would not arrive exactly",
        )
    return int(value)


def _double(name: str, value: int | float) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ParameterError(name, f"expected a finite number, got {value!r:.60}")
    return number


def suggest(word: str, candidates) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _show(value: Any) -> str:
    """A short repr; huge integers are described, since repr() of them is slow or refused."""
    if isinstance(value, int) and not -(10**40) < value < 10**40:
        return f"an integer of about {value.bit_length() * 3 // 10} digits"
    return f"{value!r:.60}"


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
