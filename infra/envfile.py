"""Read `schedules/environments/<env>.yaml` for the setup, refusing it with file:line errors.

The file goes through `contract.environment.environment_from` (the one model of the file, which
every deployable uses) and `cross_environment_problems` against the other environment files, so
the setup never creates or grants anything for a file that `schedule.py validate` would refuse,
and never touches a bucket or project another environment uses. Unlike the reconciler, the
setup takes a file without `trigger_url`: its first run comes before the trigger exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contract import environment
from scheduling.yamlfile import Document, YamlError, parse


class EnvironmentFileError(Exception):
    """The environment file (or its siblings) cannot be set up; `problems` are file:line lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Environment:
    """A checked environment file: the contract's model of it and where it was read from."""

    deployment: environment.Environment
    path: Path

    @property
    def trigger_url(self) -> str:
        """The trigger's URL as the model checked it ('' before the trigger is deployed)."""
        return self.deployment.trigger_url


def load(environments_dir: Path, name: str) -> Environment:
    """The environment `name` from `environments_dir`; EnvironmentFileError naming each problem."""
    path = environments_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in environments_dir.glob("*.yaml"))
        raise EnvironmentFileError(
            [f"{path}: no such environment file (known: {', '.join(known) or 'none'})"]
        )
    own, doc, problems = _read(path, name)
    if own is None:
        raise EnvironmentFileError(problems)
    others = []
    for other_path in sorted(environments_dir.glob("*.yaml")):
        if other_path.stem != name:
            other, _, _ = _read(other_path, other_path.stem)
            if other is not None:
                others.append(other)
    # The contract reports a shared bucket or project against the environment listed later;
    # listing this one last makes every clash it is part of reported against it.
    for env_name, problem in environment.cross_environment_problems([*others, own]):
        if env_name == name:
            problems.append(_line(path, doc, problem.path, problem.message))
    if problems:
        raise EnvironmentFileError(problems)
    return Environment(own, path)


def _read(path: Path, name: str) -> tuple[environment.Environment | None, Document, list[str]]:
    try:
        doc = parse(path.read_text(encoding="utf-8"))
    except YamlError as err:
        return None, Document(data=None), [f"{path}:{err.line}: {err.message}"]
    except (OSError, UnicodeDecodeError) as err:
        return None, Document(data=None), [f"{path}: cannot read: {err}"]
    if not isinstance(doc.data, dict):
        return None, doc, [f"{path}:1: must be a mapping of settings"]
    problems = [f"{path}:{line}: duplicate key '{key[-1]}'" for key, line in doc.duplicates]
    model, env_problems = environment.environment_from(name, doc.data)
    problems += [_line(path, doc, p.path, p.message) for p in env_problems]
    return (model if not problems else None), doc, problems


def _line(path: Path, doc: Document, key: tuple[str, ...], message: str) -> str:
    field = ".".join(key) if key else "(file)"
    return f"{path}:{doc.line(*key)}: {field}: {message}"


def shown(path: Path) -> str:
    """`path` relative to the current folder when it is below it (as people type it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
