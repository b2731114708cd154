"""Reading the CI files as data: workflow and Cloud Build steps, the commands their scripts run."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
CLOUDBUILD = REPO / "cloudbuild"

# Cloud Build's built-in substitutions (documented list; _PR_NUMBER & co. come from PR triggers).
CLOUDBUILD_BUILTINS = frozenset(
    {
        "PROJECT_ID",
        "PROJECT_NUMBER",
        "BUILD_ID",
        "LOCATION",
        "TRIGGER_NAME",
        "TRIGGER_BUILD_CONFIG_PATH",
        "SERVICE_ACCOUNT",
        "SERVICE_ACCOUNT_EMAIL",
        "COMMIT_SHA",
        "SHORT_SHA",
        "REVISION_ID",
        "REPO_NAME",
        "REPO_FULL_NAME",
        "BRANCH_NAME",
        "TAG_NAME",
        "REF_NAME",
        "_HEAD_BRANCH",
        "_BASE_BRANCH",
        "_HEAD_REPO_URL",
        "_PR_NUMBER",
    }
)
# `$$` is a literal dollar; `$NAME` / `${NAME}` is a substitution (Cloud Build's syntax).
_SUBST = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# Words after which a new command starts (so `apt-get install make` is not a make call).
_START = {"then", "else", "do", "&&", "||", ";", "|"}
_COMMAND_SUBST = re.compile(r"\$\(([^()]*)\)")
_CUT = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "2>>", "&>"}


def load_yaml(path: Path) -> Any:
    """Parse a YAML file (PyYAML reads the `on:` key of workflows as True; callers know)."""
    return yaml.safe_load(path.read_text())


def workflow_files() -> list[Path]:
    """Every workflow file, sorted."""
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def cloudbuild_files() -> list[Path]:
    """Every Cloud Build config, sorted."""
    return sorted([*CLOUDBUILD.glob("*.yaml"), *CLOUDBUILD.glob("*.yml")])


def workflow_step(path: Path, job: str, name_start: str) -> dict[str, Any]:
    """The step of `job` whose name starts with `name_start` (exactly one must)."""
    steps = load_yaml(path)["jobs"][job]["steps"]
    found = [s for s in steps if str(s.get("name", "")).startswith(name_start)]
    assert len(found) == 1, f"{path.name}: job {job}: {len(found)} step(s) named {name_start!r}…"
    return found[0]


def workflow_scripts(path: Path) -> list[tuple[str, str]]:
    """(job id, run script) of every `run:` step in a workflow."""
    jobs = load_yaml(path)["jobs"]
    return [
        (job_id, step["run"])
        for job_id, job in jobs.items()
        for step in job.get("steps", [])
        if "run" in step
    ]


def cloudbuild_step(path: Path, step_id: str) -> dict[str, Any]:
    """The step with `id: step_id` of a Cloud Build config."""
    steps = load_yaml(path)["steps"]
    found = [s for s in steps if s.get("id") == step_id]
    assert len(found) == 1, f"{path.name}: {len(found)} step(s) with id {step_id!r}"
    return found[0]


def cloudbuild_script(step: dict[str, Any]) -> str:
    """The shell text a Cloud Build step runs (its `bash -c` script, or entrypoint + args)."""
    args = [str(a) for a in step.get("args", [])]
    if step.get("entrypoint") == "bash" and args and args[0].startswith("-") and "c" in args[0]:
        return args[1]
    return shlex.join([str(step.get("entrypoint", "")), *args]).strip()


def substitutions_used(text: str) -> set[str]:
    """Names of the Cloud Build substitutions `text` refers to (`$$` escapes excluded)."""
    return {m.group(1) or m.group(2) for m in _SUBST.finditer(text) if m.group(0) != "$$"}


def substitute(text: str, values: dict[str, str]) -> str:
    """Apply Cloud Build's substitution to `text`: `$$` -> `$`, `$NAME`/`${NAME}` -> value."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(2)
        assert name in values, f"no value for substitution {name}"
        return values[name]

    return _SUBST.sub(one, text)


@dataclass(frozen=True)
class Command:
    """One invocation of a repository script found in CI: `python compile.py --check` etc."""

    where: str
    program: str  # compile.py | schedule.py | ci.<module> | make
    args: tuple[str, ...]

    @property
    def flags(self) -> list[str]:
        """The `--long` options, without values."""
        return [a.split("=", 1)[0] for a in self.args if a.startswith("--")]

    @property
    def subcommand(self) -> str | None:
        """The first positional word (schedule.py's subcommand)."""
        return next((a for a in self.args if not a.startswith("-")), None)

    def text(self) -> str:
        """As a person would write it."""
        return " ".join([self.program, *self.args])


def commands_in(script: str, where: str) -> list[Command]:
    """Every `python compile.py|schedule.py|-m ci.X ...` and `make X` call in a shell script."""
    joined = script.replace("\\\n", " ")
    # The inside of `$(...)` is a command of its own; shlex cannot see into it when quoted.
    lines = [part for line in joined.splitlines() for part in (*_COMMAND_SUBST.findall(line), line)]
    found = []
    for line in lines:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i, token in enumerate(tokens):
            program, start = None, i + 1
            if token.endswith(("compile.py", "schedule.py")) and i and "python" in tokens[i - 1]:
                program = Path(token).name
            elif token == "-m" and i + 1 < len(tokens) and tokens[i + 1].startswith("ci."):
                program, start = tokens[i + 1], i + 2
            elif token == "make" and i + 1 < len(tokens) and (i == 0 or tokens[i - 1] in _START):
                program = "make"
            if program is None:
                continue
            args = []
            for arg in tokens[start:]:
                if arg in _CUT or arg.startswith((">", "2>")):
                    break
                args.append(arg)
            found.append(Command(where, program, tuple(args)))
    return found


def all_commands() -> list[Command]:
    """Every repository command that any workflow or Cloud Build step runs."""
    commands = []
    for path in workflow_files():
        for job, script in workflow_scripts(path):
            commands += commands_in(script, f"{path.name}:{job}")
    for path in cloudbuild_files():
        for step in load_yaml(path)["steps"]:
            script = substitute(cloudbuild_script(step), _placeholders(cloudbuild_script(step)))
            commands += commands_in(script, f"{path.name}:{step.get('id')}")
    return commands


def _placeholders(text: str) -> dict[str, str]:
    return {name: f"SUBST_{name}" for name in substitutions_used(text)}
