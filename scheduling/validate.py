"""Validation of the whole `schedules/` tree: every problem in every file, reported at once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.environment import Environment, cross_environment_problems
from contract.naming import schedule_key
from scheduling import params
from scheduling.jobs import template_problem
from scheduling.spec import (
    MAX_JOB_ID,
    EnvironmentFile,
    Problem,
    Schedule,
    parse_environment,
    parse_schedule,
)
from scheduling.yamlfile import YamlError, parse

#: (stem, display path, text) of one file
SourceFile = tuple[str, str, str]


@dataclass
class Validated:
    """The outcome of validation: typed schedules, environments and every problem found."""

    schedules: list[Schedule] = field(default_factory=list)
    environments: dict[str, Environment] = field(default_factory=dict)
    #: the files the environments were read from, by name (to put a problem on a line)
    environment_files: dict[str, EnvironmentFile] = field(default_factory=dict)
    #: (environment, schedule name) -> parameters typed against the pipeline
    parameters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_sources(
    schedule_files: list[SourceFile],
    environment_files: list[SourceFile],
    catalog: params.Catalog | None,
    only_env: str | None = None,
    environments_dir: str = "schedules/environments",
) -> Validated:
    """Validate file contents (pure: no file or network access).

    `catalog` None skips the checks against pipelines (for `next`, which needs only the cron
    and time zone). With `only_env`, only that environment is checked; otherwise all of them.
    """
    result = Validated()
    problems = _parse_environments(result, environment_files, only_env, environments_dir)
    problems += _parse_schedules(result, schedule_files)
    if only_env is None and len(result.environments) > 1:
        problems.extend(_shared_resources(result.environment_files))
    if catalog is not None:
        problems.extend(catalog.problems)
        for env_file in result.environment_files.values():
            problems.extend(params.environment_parameter_problems(env_file, catalog))
        problems.extend(_parameter_problems(result, catalog, only_env))
    for env in result.environments.values():
        for schedule in result.schedules:
            problems += _deployment_problems(schedule, env)
    result.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.message))
    return result


def _parse_environments(
    result: Validated,
    environment_files: list[SourceFile],
    only_env: str | None,
    environments_dir: str,
) -> list[Problem]:
    """Parse the environment files (only `only_env` when given) into `result`; their problems."""
    problems: list[Problem] = []
    for name, file, text in sorted(environment_files):
        if only_env is not None and name != only_env:
            continue
        env_file, found = _parse(name, file, text, parse_environment)
        problems.extend(found)
        if env_file is not None:
            result.environments[name] = env_file.environment
            result.environment_files[name] = env_file
    if only_env is not None and only_env not in {n for n, _f, _t in environment_files}:
        known = ", ".join(sorted(n for n, _f, _t in environment_files)) or "none"
        problems.append(
            Problem(
                f"{environments_dir}/{only_env}.yaml",
                0,
                f"no such environment '{only_env}' (available: {known})",
            )
        )
    return problems


def _parse_schedules(result: Validated, schedule_files: list[SourceFile]) -> list[Problem]:
    """Parse the schedule files into `result`, refusing names that would share a job id."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    keys: dict[str, str] = {}
    for name, file, text in sorted(schedule_files, key=lambda f: (f[0], f[1])):
        if name in seen:
            problems.append(
                Problem(file, 1, f"duplicate job name '{name}': {seen[name]} has the same name")
            )
            continue
        seen[name] = file
        key = schedule_key(name)
        if key and key in keys:
            # Job ids and run labels are built from the key: the second schedule's fires would
            # find the first one's runs and never start.
            problems.append(
                Problem(
                    file,
                    1,
                    f"schedule name '{name}' collides with {keys[key]} after normalisation "
                    f"(both become '{key}' in job ids and labels); rename one of them",
                )
            )
            continue
        keys.setdefault(key, file)
        schedule, found = _parse(name, file, text, parse_schedule)
        problems.extend(found)
        if schedule is not None:
            result.schedules.append(schedule)
    return problems


def _deployment_problems(schedule: Schedule, env: Environment) -> list[Problem]:
    """What keeps one schedule from being deployed to one environment (template, job id)."""
    problems: list[Problem] = []
    template = template_problem(schedule.template, env)
    if template:
        problems.append(
            Problem(
                schedule.file,
                schedule.doc.line("template"),
                f"{template} (in environment {env.name})",
            )
        )
    job_id = env.job_prefix + schedule.name
    if len(job_id) > MAX_JOB_ID:
        # Cloud Scheduler's Job.name: the job id is letters, digits, '-' and '_', at most 500.
        problems.append(
            Problem(
                schedule.file,
                0,
                f"the job id job_prefix '{env.job_prefix[:20]}' + file name is {len(job_id)} "
                f"characters (in environment {env.name}); Cloud Scheduler allows at most "
                f"{MAX_JOB_ID}: shorten the file name to {MAX_JOB_ID - len(env.job_prefix)} "
                "characters or fewer",
            )
        )
    return problems


def _shared_resources(files: dict[str, EnvironmentFile]) -> list[Problem]:
    """Projects or buckets that two environments share (dev must never touch prod's data)."""
    out = []
    for env_name, problem in cross_environment_problems([f.environment for f in files.values()]):
        env_file = files[env_name]
        out.append(Problem(env_file.file, env_file.line(*problem.path), problem.message))
    return out


def _parse(name, file, text, parser):
    try:
        doc = parse(text)
    except YamlError as err:
        return None, [Problem(file, err.line or 1, err.message)]
    return parser(name, file, doc)


def _parameter_problems(
    result: Validated, catalog: params.Catalog, only_env: str | None
) -> list[Problem]:
    """Parameter problems per environment, naming the environment only when it matters."""
    envs: list[EnvironmentFile | None] = list(result.environment_files.values())
    if not envs and only_env is None:
        envs = [None]
    by_problem: dict[Problem, list[str]] = {}
    for env in envs:
        env_name = env.environment.name if env is not None else ""
        for schedule in result.schedules:
            typed, found = params.check_schedule_parameters(schedule, env, catalog)
            if not found:
                result.parameters[(env_name, schedule.name)] = typed
            for problem in found:
                by_problem.setdefault(problem, []).append(env_name)
    out = []
    for problem, env_names in by_problem.items():
        if len(envs) > 1 and len(env_names) < len(envs):
            problem = Problem(
                problem.file,
                problem.line,
                f"{problem.message} (in environment {', '.join(sorted(env_names))})",
            )
        out.append(problem)
    return out


def read_sources(directory: str | Path) -> tuple[list[SourceFile], list[Problem]]:
    """The `*.yaml` files directly in `directory` (paths shown relative to cwd), and the
    problems of every entry named like one that cannot be used: not UTF-8, a name with stray
    whitespace, another spelling of the suffix (`.yml`, `.YAML`), a directory or a dangling
    symbolic link. None of them is skipped in silence: a file one tool reads and another skips
    (a case-insensitive disk, an editor that saves `.yml`) would make plan delete a job."""
    root = Path(directory)
    if not root.is_dir():
        return [], []
    files: list[SourceFile] = []
    problems: list[Problem] = []
    for path in sorted(root.iterdir()):
        unusable = _unusable_entry(path)
        if unusable:
            problems.append(Problem(_display(path), 0, unusable))
            continue
        if path.suffix != ".yaml" or not path.is_file():
            continue
        try:
            raw = path.read_bytes()
        except OSError as err:
            problems.append(Problem(_display(path), 0, f"cannot read: {err.strerror or err}"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            problems.append(
                Problem(
                    _display(path),
                    line,
                    f"not UTF-8 text: byte 0x{raw[err.start]:02x} at offset {err.start}; "
                    "save the file as UTF-8",
                )
            )
            continue
        files.append((path.stem, _display(path), text))
    return files, problems


def _unusable_entry(path: Path) -> str | None:
    """Why an entry named like a YAML file cannot be read as one, or None (also for entries
    that are not named like one at all)."""
    name = path.name
    if name != name.strip():
        if name.strip().lower().endswith((".yaml", ".yml")):
            return (
                f"file name {name!r} has leading or trailing whitespace (a newline, say); rename it"
            )
        return None
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in ("yaml", "yml"):
        return None
    if suffix != "yaml":
        return (
            f"file name {name!r} ends in '.{suffix}': these files end in '.yaml' exactly "
            f"(one spelling, the same on every disk); rename it to '{stem}.yaml'"
        )
    if path.is_symlink() and not path.exists():
        return f"is a symbolic link to '{os.readlink(path)}', which does not exist; remove it"
    if path.is_dir():
        return "is a directory, not a YAML file; rename or remove it"
    if not path.is_file():
        return "is not a regular file; remove it"
    return None


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def validate_tree(
    schedules_dir: str | Path,
    templates_dir: str | Path | None,
    only_env: str | None = None,
) -> Validated:
    """Read `schedules_dir` (and its `environments/`) and the templates, then validate."""
    root = Path(schedules_dir)
    catalog = params.load_catalog(templates_dir) if templates_dir is not None else None
    schedule_files, unreadable = read_sources(root)
    env_files, env_unreadable = read_sources(root / "environments")
    result = validate_sources(
        schedule_files,
        env_files,
        catalog,
        only_env=only_env,
        environments_dir=_display(root / "environments"),
    )
    if unreadable or env_unreadable:
        found = set(result.problems) | set(unreadable) | set(env_unreadable)
        result.problems = sorted(found, key=lambda p: (p.file, p.line, p.message))
    return result
