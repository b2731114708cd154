"""The commands CI runs exist: each script, subcommand and flag is in the script's own --help."""

from __future__ import annotations

import functools
import re
import subprocess
import sys

import pytest

from tests.ci.flows import REPO, Command, all_commands

COMMANDS = all_commands()


@functools.cache
def help_text(*argv: str) -> str:
    """`python <argv> --help` run from the repository root (the way CI runs it)."""
    done = subprocess.run(
        [sys.executable, *argv, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{' '.join(argv)} --help failed: {done.stderr}"
    return done.stdout


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, flags=re.MULTILINE))


def test_ci_runs_every_command_of_both_flows():
    texts = {c.program + " " + " ".join(c.args) for c in COMMANDS}
    wanted = [
        "make test",
        "compile.py --check",
        "schedule.py validate",
        "schedule.py plan --env",
        "schedule.py apply --env",
        "compile.py --publish",
        "ci.plan_comment",
        "ci.components_image tag",
        "ci.components_image pinned",
        "ci.build_queue wait-older",
        "ci.build_queue require-success",
    ]
    for fragment in wanted:
        assert any(t.startswith(fragment) for t in texts), f"no CI step runs `{fragment} …`"


def test_github_actions_and_cloud_build_run_the_same_commands():
    # Details of how a value arrives, not of what runs: --force on re-runs (README), the digest
    # list from a file or a pipe, the bot's login named for an app token (ci/plan_comment.py).
    transport = {"--force", "--digests", "--author"}

    def shape(command: Command) -> tuple[str, str | None, tuple[str, ...]]:
        flags = tuple(sorted(set(command.flags) - transport))
        subcommands = ("schedule.py", "make", "ci.components_image", "ci.build_queue")
        sub = command.subcommand if command.program in subcommands else None
        return command.program, sub, flags

    github = {shape(c) for c in COMMANDS if c.where.endswith(".yml") or ".yml:" in c.where}
    cloud_build = {shape(c) for c in COMMANDS if ".yaml:" in c.where}
    # Cloud Build's prod build installs without testing (its dev build tested the commit), and
    # it validates per environment; everything GitHub Actions runs, Cloud Build runs too.
    assert github - cloud_build == set()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.where}:{c.text()}"[:80])
def test_command_and_its_flags_exist(command):
    if command.program == "make":
        assert command.args[0] in makefile_targets()
        return
    if command.program == "schedule.py":
        sub = command.subcommand
        top = help_text("schedule.py")
        assert re.search(r"\{[\w,]*\b" + re.escape(sub) + r"\b[\w,]*\}", top), sub
        text = help_text("schedule.py", sub)
    elif command.program == "compile.py":
        text = help_text("compile.py")
    else:
        text = help_text("-m", command.program)
        sub = command.subcommand
        if sub and re.search(r"\{[\w,-]*\b" + re.escape(sub) + r"\b[\w,-]*\}", text):
            text = help_text("-m", command.program, sub)
    for flag in command.flags:
        assert re.search(re.escape(flag) + r"\b", text), f"{command.text()}: {flag} unknown"
