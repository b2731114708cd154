"""Running `gcloud` (and `bq`) commands: look (describe/list/show) and change (create/add/update).

A look that the CLI answers with a not-found error means "missing"; any other failure (permission
denied, an API not enabled, a bad flag) stops the setup with the command and the CLI's message,
so a forbidden describe is never mistaken for a missing resource and followed by a create.

A command may carry files (`Command.files`): JSON the CLI reads from a path (`bq update
--source`). Its arguments hold a placeholder for each; the runner writes the files to a private
temporary folder just before the command runs and puts their paths in place of the placeholders.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Not-found answers across the APIs used here (IAM and Artifact Registry say NOT_FOUND, Cloud
#: Storage "not found: 404", Compute "was not found", Cloud Run "Cannot find service", bq
#: "BigQuery error in show operation: Not found: Dataset p:d").
_NOT_FOUND = re.compile(r"NOT_FOUND|not found|Not found: |Cannot find|\b404\b")
#: IAM is eventually consistent: for a little while after `service-accounts create`, a binding
#: naming the new account fails with "does not exist". Such a binding is retried after these
#: pauses (seconds) before the setup gives up.
RETRY_DELAYS: tuple[float, ...] = (2, 4, 8, 15, 30)
_NOT_YET = re.compile(r"Service account .* does not exist")


@dataclass(frozen=True)
class Command:
    """One CLI invocation: program, arguments, and files whose placeholders the arguments hold."""

    args: tuple[str, ...]
    program: str = "gcloud"
    #: (placeholder, content): the runner writes content to a file and passes its path.
    files: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        """The command as a person would type it (files shown by their placeholders)."""
        return shlex.join((self.program, *self.args))

    def with_paths(self, paths: dict[str, str]) -> Command:
        """The same command with each file placeholder replaced by its path."""
        args = list(self.args)
        for placeholder, path in paths.items():
            args = [arg.replace(placeholder, path) for arg in args]
        return Command(tuple(args), self.program)


def gcloud(*args: str) -> Command:
    """A gcloud command from its arguments."""
    return Command(tuple(args))


@dataclass(frozen=True)
class Address:
    """A resource as gcloud names it: command group, name, the flags that scope it, and how
    people read it (`label`, when not its name).

    gcloud puts a verb's own flags after the scope (`gcloud pubsub topics create T --project P`),
    so every command on the resource is `group verb name scope flags`.
    """

    group: tuple[str, ...]
    name: str
    scope: tuple[str, ...] = ()
    label: str = ""

    def command(self, verb: str, *flags: str) -> Command:
        """`gcloud GROUP VERB NAME SCOPE FLAGS`."""
        return gcloud(*self.group, verb, self.name, *self.scope, *flags)

    def describe(self) -> Command:
        """The look that says whether it exists, and what it is (JSON)."""
        return self.command("describe", "--format=json")

    @property
    def shown(self) -> str:
        """The resource as a person reads it."""
        return self.label or self.name


def bq(*args: str, files: tuple[tuple[str, str], ...] = ()) -> Command:
    """A bq (BigQuery CLI, part of the Google Cloud CLI) command from its arguments."""
    return Command(tuple(args), "bq", files)


@dataclass(frozen=True)
class Looked:
    """What a look found: whether the thing exists and gcloud's JSON answer about it."""

    found: bool
    data: Any = None


class GcloudError(Exception):
    """A gcloud command failed in a way the setup cannot continue from."""

    def __init__(self, command: Command, returncode: int, stderr: str) -> None:
        message = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
        super().__init__(f"`{command.text()}` failed (exit {returncode}): {message}")
        self.command = command
        self.returncode = returncode
        self.stderr = stderr


class Runner:
    """Runs the CLIs for real; `echo` (when given) receives every command before it runs."""

    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo
        self.changes = 0

    @staticmethod
    def missing(programs: set[str]) -> list[str]:
        """The programs among `programs` that are not on PATH."""
        return sorted(p for p in programs if shutil.which(p) is None)

    def look(self, command: Command) -> Looked:
        """Run a describe/list; Looked(False) on not-found, GcloudError on any other failure."""
        result = self._run(command)
        if result.returncode != 0:
            if _NOT_FOUND.search(result.stderr):
                return Looked(False)
            raise GcloudError(command, result.returncode, result.stderr)
        try:
            data = json.loads(result.stdout) if result.stdout.strip() else None
        except json.JSONDecodeError:
            raise GcloudError(command, 0, "answer is not JSON: " + result.stdout[:200]) from None
        return Looked(True, data)

    def change(self, command: Command) -> None:
        """Run a create/add/update; GcloudError when it fails."""
        result = self._run(command)
        for delay in RETRY_DELAYS:
            if result.returncode == 0 or not _NOT_YET.search(result.stderr):
                break
            time.sleep(delay)
            result = self._run(command)
        if result.returncode != 0:
            raise GcloudError(command, result.returncode, result.stderr)
        self.changes += 1

    def _run(self, command: Command) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="bootstrap-") as folder:
            paths = {}
            for number, (placeholder, content) in enumerate(command.files):
                path = Path(folder) / f"{number}.json"
                path.write_text(content, encoding="utf-8")
                paths[placeholder] = str(path)
            ready = command.with_paths(paths)
            if self.echo:
                self.echo(ready.text())
            # A setup run must never stop at an interactive prompt (e.g. gcloud asking for an
            # IAM condition): prompts off, answers default.
            env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
            return subprocess.run(
                [ready.program, *ready.args],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
