"""`--param name=value` parsing, typed against a compiled template's declared inputs."""

from __future__ import annotations

from typing import Any

import yaml

from contract.params import ParamDecl, check_parameters, range_errors


class ParamError(ValueError):
    """One or more --param values were rejected; the message lists every problem."""


def parse_assignments(
    assignments: list[str], decls: dict[str, ParamDecl], defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`["k=v", ...]` over `defaults` -> typed values.

    String parameters take the text as written; other types are read as YAML (`0.7`, `true`,
    `[a, b]`, `{k: v}`). Values are held to the ranges schedules and the trigger use
    (`contract.parameter_ranges`). Every problem is reported at once in one ParamError.
    """
    raw: dict[str, Any] = dict(defaults or {})
    problems = []
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"--param '{item}': expected name=value")
            continue
        decl = decls.get(name)
        if decl is None or decl.type == "STRING":
            raw[name] = text
            continue
        try:
            raw[name] = yaml.safe_load(text)
        except yaml.YAMLError:
            problems.append(f"--param {name}: '{text}' is not a valid {decl.type_name}")
    typed, errors = check_parameters(decls, raw)
    # the documented ranges hold locally too: a run.py value a schedule could not set is refused
    errors += range_errors(decls, typed)
    problems.extend(f"--param {err.name}: {err.message}" for err in errors)
    if problems:
        raise ParamError("\n".join(problems))
    return typed
