"""Plans and fire times shown to people (text) and to CI (JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scheduling.actions import CREATE, DELETE, UPDATE
from scheduling.diff import ABSENT, Action, Plan


def show(value: Any) -> str:
    """A field value as it reads in a plan: JSON literals, `(none)` for an absent value."""
    if value is ABSENT:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def plan_text(plan: Plan) -> str:
    """The plan as people read it, Terraform-like: one block per job, one line per field."""
    lines = [f"Environment {plan.environment}: {plan.parent}"]
    lines.append(f"  read {plan.listed} job(s) with {plan.list_calls} ListJobs call(s)")
    lines.append("")
    for action in plan.actions:
        lines += _action_lines(action)
    lines += _notice_lines(plan)
    if plan.actions or plan.conflicts:
        lines.append("")
    lines.append(_summary_line(plan))
    return "\n".join(lines)


def _action_lines(action: Action) -> list[str]:
    """One action's block: a head line, then its fields (CREATE, UPDATE) one per line."""
    head = f"{action.kind.sign} {action.kind.name} {action.job_id}"
    if action.schedule and action.kind is not DELETE:
        head += f"  (schedules/{action.schedule}.yaml)"
    if action.reason:
        head += f"  [{action.reason}]"
    lines = [head]
    if action.kind is CREATE:
        lines += [f"    {change.path}: {show(change.new)}" for change in action.changes]
        if action.paused:
            lines.append("    then paused (enabled: false)")
    elif action.kind is UPDATE:
        lines += [
            f"    {change.path}: {show(change.old)} → {show(change.new)}"
            for change in action.changes
        ]
        lines.append(f"    update_mask: {','.join(action.update_mask)}")
    return lines


def _notice_lines(plan: Plan) -> list[str]:
    """Holds, conflicts, a mass-delete refusal and jobs left alone, after the actions."""
    lines = [
        f"‖ held paused by operator: {job_id} ({hold}); its file says enabled, "
        "`schedule.py resume` lifts the hold"
        for job_id, hold in plan.held
    ]
    lines += [f"! conflict: {message}" for message in plan.conflicts]
    mass_delete = plan.mass_delete()
    if mass_delete:
        lines.append(f"! mass delete: {mass_delete}")
    if plan.unowned:
        lines.append(
            f"  left alone (prefix matches but not managed here): {', '.join(plan.unowned)}"
        )
    return lines


def _summary_line(plan: Plan) -> str:
    summary = ", ".join(f"{n} to {kind}" for kind, n in plan.counts().items())
    if plan.has_changes:
        return f"Plan: {summary}; {len(plan.unchanged)} unchanged."
    return f"No changes: {len(plan.unchanged)} job(s) match the schedule files."


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as a JSON-ready dict (for CI to post on a pull request)."""
    actions = []
    for action in plan.actions:
        item: dict[str, Any] = {"action": action.kind.name, "job": action.job_id}
        if action.schedule:
            item["schedule"] = action.schedule
        if action.reason:
            item["reason"] = action.reason
        if action.kind is CREATE:
            item["fields"] = {c.path: c.new for c in action.changes}
            item["paused"] = action.paused
        elif action.kind is UPDATE:
            item["changes"] = [
                {"field": c.path, "old": c.old, "new": c.new} for c in action.changes
            ]
            item["update_mask"] = list(action.update_mask)
        actions.append(item)
    return {
        "environment": plan.environment,
        "parent": plan.parent,
        "has_changes": plan.has_changes,
        "summary": {**plan.counts(), "unchanged": len(plan.unchanged)},
        "actions": actions,
        "conflicts": plan.conflicts,
        "unowned": plan.unowned,
        "held": [{"job": job_id, "hold": hold} for job_id, hold in plan.held],
        "owned": plan.owned,
        "mass_delete": plan.mass_delete(),
        "list_calls": plan.list_calls,
        "listed": plan.listed,
    }


def fire_times_text(rows: list[tuple[str, str, str, list[datetime]]]) -> str:
    """`next`: each schedule's cron, zone and coming fire times (local, then UTC)."""
    lines = []
    for name, expr, tz, times in rows:
        lines.append(f'{name}  "{expr}"  {tz}')
        if not times:
            lines.append("    (never fires)")
        for when in times:
            utc = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(f"    {when.isoformat()}  {when.strftime('%a')}  = {utc}")
    return "\n".join(lines)
