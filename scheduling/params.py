"""Pipeline parameters checked against the compiled templates (`build/vertex/<pipeline>.yaml`).

A thin layer over `contract/params.py` that adds loading templates from a directory,
merging environment defaults under a schedule's own values, and placing each problem on the
line of the file that set the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.ownership import DEPLOYMENT_PARAMETERS, RUNTIME_PARAMETERS
from contract.params import (
    ParamDecl,
    check_parameters,
    declared_parameters,
    range_errors,
    suggest,
)
from contract.values import value_problems
from scheduling.spec import EnvironmentFile, Problem, Schedule


@dataclass(frozen=True)
class Catalog:
    """The pipelines compiled into a template directory, with their declared parameters."""

    directory: str
    pipelines: dict[str, dict[str, ParamDecl]]
    problems: tuple[Problem, ...] = ()


def load_catalog(directory: str | Path) -> Catalog:
    """Read every `<pipeline>.yaml` template in `directory` (problems for unreadable ones)."""
    root = Path(directory)
    pipelines: dict[str, dict[str, ParamDecl]] = {}
    problems: list[Problem] = []
    if root.is_dir():
        for path in sorted(root.glob("*.yaml")):
            try:
                template = yaml.load(
                    path.read_text(), Loader=getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
                )
                pipelines[path.stem] = declared_parameters(
                    template if isinstance(template, dict) else {}
                )
            except (OSError, yaml.YAMLError, ValueError, AttributeError) as err:
                problems.append(Problem(str(path), 1, f"not a readable compiled template: {err}"))
    return Catalog(str(root), pipelines, tuple(problems))


def merged_parameters(
    schedule: Schedule, env: EnvironmentFile | None, decls: dict[str, ParamDecl]
) -> dict[str, Any]:
    """Environment defaults overlaid by the schedule's own parameters (the schedule wins).

    An environment default reaches only pipelines that declare it, so one environment file can
    hold settings (a Dataproc subnetwork, say) that some pipelines do not take.
    """
    env_params = env.environment.parameters if env is not None else {}
    defaults = {k: v for k, v in env_params.items() if k in decls}
    return {**defaults, **schedule.parameters}


def environment_parameter_problems(env: EnvironmentFile, catalog: Catalog) -> list[Problem]:
    """Environment defaults that no compiled pipeline declares (most likely misspelt)."""
    if not catalog.pipelines:
        return []
    known = {name for decls in catalog.pipelines.values() for name in decls}
    problems = []
    for name in env.environment.parameters:
        if name not in known:
            hint = suggest(name, known)
            problems.append(
                Problem(
                    env.file,
                    env.line("parameters", name),
                    f"parameter '{name}' is not declared by any pipeline"
                    + (f"; did you mean '{hint}'?" if hint else ""),
                )
            )
    return problems


def schedule_declarations(decls: dict[str, ParamDecl]) -> dict[str, ParamDecl]:
    """The declared parameters a schedule may set: the deployment-owned ones are written into
    the published templates from the environment file and `fire_time` is set by the trigger, so
    they are neither settable here nor missing when a schedule leaves them out."""
    return {
        name: decl
        for name, decl in decls.items()
        if name not in DEPLOYMENT_PARAMETERS and name not in RUNTIME_PARAMETERS
    }


def check_schedule_parameters(
    schedule: Schedule, env: EnvironmentFile | None, catalog: Catalog
) -> tuple[dict[str, Any], list[Problem]]:
    """The typed parameters a schedule sends in `env`, and every problem with them."""
    if not schedule.pipeline:
        return {}, []  # already reported as a missing key
    decls = catalog.pipelines.get(schedule.pipeline)
    if decls is None:
        return {}, [unknown_pipeline(schedule, catalog)]
    decls = schedule_declarations(decls)
    values = merged_parameters(schedule, env, decls)
    problems = []
    for name in list(values):
        unfit = value_problems(values[name], f"parameter '{name}'")
        if unfit:
            file, line = _where(schedule, env, name)
            problems.extend(
                Problem(file, line, f"pipeline '{schedule.pipeline}': {message}")
                for message in unfit
            )
            del values[name]
    typed, errors = check_parameters(decls, values)
    errors += range_errors(decls, typed)
    for err in errors:
        if err.name in schedule.parameters:
            file, line = schedule.file, schedule.doc.line("parameters", err.name)
            where = ""
        elif env is not None and err.name in env.environment.parameters:
            file, line = env.file, env.line("parameters", err.name)
            where = " (environment default)"
        else:  # a required parameter nobody gave
            file = schedule.file
            line = (
                schedule.doc.line("parameters") if "parameters" in (schedule.doc.data or {}) else 1
            )
            where = ""
        problems.append(Problem(file, line, f"pipeline '{schedule.pipeline}': {err}{where}"))
    return typed, problems


def _where(schedule: Schedule, env: EnvironmentFile | None, name: str) -> tuple[str, int]:
    if name in schedule.parameters or env is None:
        return schedule.file, schedule.doc.line("parameters", name)
    return env.file, env.line("parameters", name)


def unknown_pipeline(schedule: Schedule, catalog: Catalog) -> Problem:
    """The problem for a schedule naming a pipeline that has no compiled template."""
    line = schedule.doc.line("pipeline")
    if not catalog.pipelines:
        return Problem(
            schedule.file,
            line,
            f"no compiled templates found in {catalog.directory}/ to check pipeline "
            f"'{schedule.pipeline}' against; run `python compile.py` first",
        )
    hint = suggest(schedule.pipeline, catalog.pipelines)
    return Problem(
        schedule.file,
        line,
        f"unknown pipeline '{schedule.pipeline}'"
        + (f"; did you mean '{hint}'?" if hint else "")
        + f" (compiled in {catalog.directory}/: {', '.join(sorted(catalog.pipelines))})",
    )
