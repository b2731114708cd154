"""Render `schedule.py plan --json` results as one Markdown pull-request comment, and post it.

CI runs the plan once per environment into a directory (see .github/workflows/pull-request.yml):

    <dir>/<env>.json   stdout of `schedule.py plan --env <env> --json --detailed-exitcode`
    <dir>/<env>.rc     its exit code (0 no changes, 2 changes, anything else: the plan failed)
    <dir>/<env>.err    its stderr

    python -m ci.plan_comment --dir plans [--commit SHA] [--post --repo OWNER/REPO --pr N]

prints the comment, and with --post creates or updates THE comment on the pull request: the one
that carries a hidden marker and was written by the posting account itself (`--author`, by
default the token's own user), never someone else's comment that copies the marker.
Exit 1 when any environment's plan failed, after the comment is posted, so the failure is both
visible on the pull request and red in CI.

Standard library only (with ci/github.py): the trusted comment step runs it with a bare Python,
never with the pull request's installed environment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci.github import GitHubError, upsert_comment

MARKER = "<!-- schedule-plan -->"
# GitHub refuses comment bodies over 65,536 characters; keep a margin for the footer.
MAX_BODY = 60_000
EXIT_OK, EXIT_CHANGES = 0, 2
_SIGNS = {"create": "+", "update": "~", "pause": "‖", "resume": ">", "delete": "-"}
_ERR_TAIL_LINES = 40


@dataclass(frozen=True)
class EnvPlan:
    """One environment's plan result: the parsed JSON when the plan ran, else the error."""

    env: str
    exit_code: int
    plan: dict[str, Any] | None
    error: str = ""

    @property
    def failed(self) -> bool:
        """True when the plan did not produce a result (exit code other than 0 and 2)."""
        return self.exit_code not in (EXIT_OK, EXIT_CHANGES) or self.plan is None


class PlanFilesError(Exception):
    """The plan directory is missing or holds no results; the message names the path."""


def load_plans(directory: Path) -> list[EnvPlan]:
    """Read every `<env>.rc` in `directory` with its `.json` and `.err`, sorted by name."""
    if not directory.is_dir():
        raise PlanFilesError(f"{directory}: no such directory (run the plans first)")
    codes = sorted(directory.glob("*.rc"))
    if not codes:
        raise PlanFilesError(f"{directory}: no <env>.rc files (run the plans first)")
    return [_load_one(directory, path.stem) for path in codes]


def _load_one(directory: Path, env: str) -> EnvPlan:
    rc_path = directory / f"{env}.rc"
    text = rc_path.read_text().strip()
    if not re.fullmatch(r"\d+", text):
        return EnvPlan(env, 1, None, f"{rc_path}: expected an exit code, found {text!r}")
    code = int(text)
    err_path = directory / f"{env}.err"
    stderr = err_path.read_text(errors="replace") if err_path.is_file() else ""
    json_path = directory / f"{env}.json"
    # A plan that ran prints its JSON even when it exits 1 (conflicts); show it whenever it parses.
    ran = code in (EXIT_OK, EXIT_CHANGES)
    plan = None
    try:
        plan = json.loads(json_path.read_text())
    except FileNotFoundError:
        if ran:
            stderr += f"\n{json_path}: missing although the plan exited {code}"
    except json.JSONDecodeError as err:
        if ran:
            stderr += f"\n{json_path}:{err.lineno}: not valid JSON: {err.msg}"
    if plan is not None and not isinstance(plan, dict):
        stderr += f"\n{json_path}: expected a JSON object, found {type(plan).__name__}"
        plan = None
    return EnvPlan(env, code, plan, stderr.strip())


def _cell(value: Any) -> str:
    """A value as a Markdown table cell: JSON literal in a code span, table-safe."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("|", "\\|").replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(text: str) -> list[str]:
    """`text` in a code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return [f"{fence}text", text, fence]


def _summary(plan: dict[str, Any]) -> str:
    counts = plan.get("summary") or {}
    parts = [f"{n} to {kind}" for kind, n in counts.items() if kind != "unchanged" and n]
    unchanged = counts.get("unchanged", 0)
    if not parts:
        return f"no changes ({unchanged} job(s) match the schedule files)"
    return ", ".join(parts) + f"; {unchanged} unchanged"


def _action_lines(action: dict[str, Any], detailed: bool) -> list[str]:
    kind = str(action.get("action", "?"))
    job = action.get("job", "?")
    head = f"**{_SIGNS.get(kind, '?')} {kind}** `{job}`"
    if action.get("schedule") and kind != "delete":
        head += f" — `schedules/{action['schedule']}.yaml`"
    if action.get("reason"):
        head += f" — {action['reason']}"
    lines = [f"- {head}"]
    if kind == "update" and action.get("changes"):
        if not detailed:
            fields = ", ".join(f"`{c.get('field')}`" for c in action["changes"])
            return [*lines, f"  changed: {fields}"]
        lines += ["", "  | field | old | new |", "  |---|---|---|"]
        lines += [
            f"  | `{c.get('field')}` | {_cell(c.get('old'))} | {_cell(c.get('new'))} |"
            for c in action["changes"]
        ]
        lines.append("")
    elif kind == "create" and action.get("fields"):
        fields = action["fields"]
        if action.get("paused"):
            lines.append("  then paused (`enabled: false`)")
        if detailed:
            lines += [
                "",
                f"  <details><summary>{len(fields)} field(s)</summary>",
                "",
                "  | field | value |",
                "  |---|---|",
            ]
            lines += [f"  | `{name}` | {_cell(value)} |" for name, value in fields.items()]
            lines += ["", "  </details>", ""]
    return lines


def _error_tail(result: EnvPlan) -> list[str]:
    tail = "\n".join(result.error.splitlines()[-_ERR_TAIL_LINES:]) or "(no error output)"
    return [*_fenced(tail), ""]


def _env_section(result: EnvPlan, detailed: bool) -> list[str]:
    if result.plan is None:
        lines = [f"### ❌ `{result.env}`: the plan failed (exit {result.exit_code})", ""]
        return [*lines, *_error_tail(result)]
    plan = result.plan
    if result.failed:
        head = f"### ❌ `{result.env}`: the plan failed (exit {result.exit_code}): {_summary(plan)}"
    else:
        head = f"### {'📝' if plan.get('has_changes') else '✅'} `{result.env}`: {_summary(plan)}"
    lines = [head, ""]
    lines.append(
        f"`{plan.get('parent', '?')}` — read {plan.get('listed', 0)} job(s) with "
        f"{plan.get('list_calls', 0)} ListJobs call(s)"
    )
    lines.append("")
    for action in plan.get("actions") or []:
        lines += _action_lines(action, detailed)
    for conflict in plan.get("conflicts") or []:
        lines.append(f"- ⚠️ conflict: {conflict}")
    if plan.get("unowned"):
        names = ", ".join(f"`{n}`" for n in plan["unowned"])
        lines.append(f"- left alone (name matches but not managed here): {names}")
    lines.append("")
    if result.failed and result.error:
        lines += _error_tail(result)
    return lines


def render(results: list[EnvPlan], commit: str | None = None, detailed: bool = True) -> str:
    """The whole comment: marker, one section per environment, a footer."""
    lines = [MARKER, "## Schedule plan", ""]
    what = "what `schedule.py apply` will change in Cloud Scheduler when this is merged"
    lines.append(f"For commit `{commit[:12]}`: {what}." if commit else f"This is {what}.")
    lines.append("")
    for result in results:
        lines += _env_section(result, detailed)
    if not detailed:
        lines.append("_Field details left out to fit a comment; the CI log has the full plan._")
    lines.append("<sub>Updated on every push to this pull request.</sub>")
    return "\n".join(lines) + "\n"


def render_bounded(results: list[EnvPlan], commit: str | None = None) -> str:
    """`render`, falling back to fewer details and then a cut, to stay under GitHub's limit."""
    body = render(results, commit)
    if len(body) <= MAX_BODY:
        return body
    body = render(results, commit, detailed=False)
    if len(body) <= MAX_BODY:
        return body
    cut = "\n\n_… cut to fit a comment; the CI log has the full plan._\n"
    return body[: MAX_BODY - len(cut)] + cut


def main(argv: list[str] | None = None) -> int:
    """CLI: print the comment; with --post, create or update it on the pull request."""
    parser = argparse.ArgumentParser(
        prog="python -m ci.plan_comment",
        description="Render schedule plans (<dir>/<env>.json/.rc/.err) as a PR comment.",
    )
    parser.add_argument("--dir", type=Path, required=True, help="directory of plan results")
    parser.add_argument("--commit", help="commit the plan is for (shown in the comment)")
    parser.add_argument("--post", action="store_true", help="create or update the PR comment")
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="OWNER/REPO")
    parser.add_argument("--pr", type=int, help="pull request number")
    parser.add_argument(
        "--author",
        help="login of the account that posts (default: the token's user, GET /user; GitHub "
        "Actions' GITHUB_TOKEN cannot call /user: pass github-actions[bot])",
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("GITHUB_API_URL", "https://api.github.com"),
        help="GitHub REST API base URL",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    if args.post:
        missing = [
            name
            for name, value in (("--repo", args.repo), ("--pr", args.pr), ("GITHUB_TOKEN", token))
            if not value
        ]
        if missing:
            print(f"error: --post needs {', '.join(missing)}", file=sys.stderr)
            return 1
    try:
        results = load_plans(args.dir)
    except PlanFilesError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    body = render_bounded(results, args.commit)
    print(body)
    if args.post:
        try:
            outcome = upsert_comment(
                args.api_url, args.repo, args.pr, token, body, MARKER, args.author
            )
        except GitHubError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{outcome.action} comment {outcome.url}", file=sys.stderr)
    failed = [r.env for r in results if r.failed]
    if failed:
        print(f"error: the plan failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
