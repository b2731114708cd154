"""The plan: what must change in Cloud Scheduler to make it match the schedule files (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.cloud.scheduler_v1 import types

from contract.environment import Environment
from scheduling.actions import CREATE, DELETE, KINDS, PAUSE, RESUME, UPDATE, Kind
from scheduling.jobs import HOLD_HEADER, Desired, flatten, hold_of, is_held, is_owned, short_id

#: Stands for a field or JSON key that one side does not have.
ABSENT = None

#: `apply` refuses, without --allow-mass-delete, a plan that deletes every owned job, or more
#: than one job and more than this share of them: a renamed folder or the wrong --env must not
#: wipe an environment's schedules.
MAX_SAFE_DELETE_SHARE = 0.3


@dataclass(frozen=True)
class FieldChange:
    """One managed field whose value differs: `path` old -> new."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Action:
    """One change the plan needs: a kind (create, update, ...) applied to one job."""

    kind: Kind
    job_id: str
    schedule: str | None = None
    changes: tuple[FieldChange, ...] = ()
    update_mask: tuple[str, ...] = ()
    job: types.Job | None = field(default=None, compare=False, repr=False)
    reason: str = ""
    #: for `create`: pause right after creating (the file says enabled: false)
    paused: bool = False


@dataclass
class Plan:
    """Every action for one environment, plus what was left alone and why."""

    environment: str
    parent: str
    actions: list[Action] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: schedules whose job id is taken by a job we do not own: nothing can be applied
    conflicts: list[str] = field(default_factory=list)
    #: jobs with our prefix but without our marker: never touched
    unowned: list[str] = field(default_factory=list)
    #: (job id, hold) of jobs an operator paused (`schedule.py pause`) whose file says enabled:
    #: left paused, shown in the plan, until `schedule.py resume`
    held: list[tuple[str, str]] = field(default_factory=list)
    #: how many listed jobs this environment owns (before applying)
    owned: int = 0
    list_calls: int = 0
    listed: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def counts(self) -> dict[str, int]:
        """Number of actions of each kind, by kind name, in apply order."""
        out = {kind.name: 0 for kind in KINDS}
        for action in self.actions:
            out[action.kind.name] += 1
        return out

    def mass_delete(self) -> str | None:
        """Why this plan deletes too much to apply without --allow-mass-delete, or None."""
        deletes = sum(1 for a in self.actions if a.kind is DELETE)
        if not deletes or not self.owned:
            return None
        share = deletes / self.owned
        if deletes == self.owned or (deletes > 1 and share > MAX_SAFE_DELETE_SHARE):
            return (
                f"this plan deletes {deletes} of the {self.owned} job(s) environment "
                f"'{self.environment}' owns ({share:.0%}; more than one job and more than "
                f"{MAX_SAFE_DELETE_SHARE:.0%}, or all of them, needs --allow-mass-delete). "
                "Check the --schedules folder and --env before allowing it"
            )
        return None


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Every managed field that differs; a changed JSON body is shown key by key."""
    changes = []
    for path in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(path, ABSENT), new.get(path, ABSENT)
        if before == after:
            continue
        if path == "http_target.body":
            detail = _json_changes(path, before, after)
            if detail:
                changes.extend(detail)
                continue
        changes.append(FieldChange(path, before, after))
    return changes


def _json_changes(path: str, before: Any, after: Any) -> list[FieldChange] | None:
    try:
        old = json.loads(before) if before is not ABSENT else {}
        new = json.loads(after) if after is not ABSENT else {}
    except (TypeError, ValueError):
        return None
    out: list[FieldChange] = []
    _walk_json(path, old, new, out)
    # Equal JSON in different bytes (spacing, key order) is still a change to the body.
    return out or None


def _walk_json(path: str, old: Any, new: Any, out: list[FieldChange]) -> None:
    # A mapping appearing or disappearing is shown key by key, like one that changed.
    if isinstance(new, dict) and old is ABSENT:
        old = {}
    if isinstance(old, dict) and new is ABSENT:
        new = {}
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _walk_json(f"{path}.{key}", old.get(key, ABSENT), new.get(key, ABSENT), out)
    elif old != new or type(old) is not type(new):
        out.append(FieldChange(path, old, new))


def mask_paths(changes: list[FieldChange]) -> tuple[str, ...]:
    """The `update_mask`: the top-level Job fields that changed, each replaced whole."""
    return tuple(sorted({change.path.split(".", 1)[0] for change in changes}))


def _keep_hold(job: types.Job, hold: str | None) -> types.Job:
    """`job` carrying the operator hold header of the job it replaces (an update of
    `http_target` replaces the headers whole and would otherwise drop the hold)."""
    if hold is None:
        return job
    out = types.Job.wrap(type(types.Job.pb(job))())
    types.Job.pb(out).CopyFrom(types.Job.pb(job))
    types.Job.pb(out).http_target.headers[HOLD_HEADER] = hold
    return out


def _create_action(want: Desired) -> Action:
    """A job the files describe and the location lacks."""
    return Action(
        CREATE,
        want.job_id,
        want.schedule.name,
        changes=tuple(field_changes({}, want.fields)),
        job=want.job,
        paused=not want.enabled,
    )


def _update_action(want: Desired, have: types.Job) -> Action | None:
    """The update an owned job needs (fields differ or its last update failed), if any."""
    changes = field_changes(flatten(have), want.fields)
    if not changes and types.Job.pb(have).state != types.Job.State.UPDATE_FAILED:
        return None
    reason = "" if changes else "the last update of this job failed"
    mask = (
        mask_paths(changes) if changes else tuple(sorted({p.split(".", 1)[0] for p in want.fields}))
    )
    return Action(
        UPDATE,
        want.job_id,
        want.schedule.name,
        changes=tuple(changes),
        update_mask=mask,
        job=_keep_hold(want.job, hold_of(have)),
        reason=reason,
    )


def _plan_state(plan: Plan, want: Desired, have: types.Job) -> bool:
    """Record the pause/resume (or operator hold) an owned job needs; True when there was one."""
    state = types.Job.pb(have).state
    if want.enabled and is_held(have):
        # An operator's pause outlives applies: resuming is `schedule.py resume`'s decision.
        plan.held.append((want.job_id, hold_of(have) or ""))
    elif want.enabled and state == types.Job.State.PAUSED:
        plan.actions.append(Action(RESUME, want.job_id, want.schedule.name))
    elif not want.enabled and state == types.Job.State.ENABLED:
        plan.actions.append(Action(PAUSE, want.job_id, want.schedule.name))
    else:
        return False
    return True


def _plan_existing(plan: Plan, want: Desired, have: types.Job) -> None:
    """Everything an owned, existing job needs to match its file (or 'unchanged')."""
    update = _update_action(want, have)
    if update is not None:
        plan.actions.append(update)
    touched_state = _plan_state(plan, want, have)
    if update is None and not touched_state:
        plan.unchanged.append(want.job_id)


def _plan_leftovers(
    plan: Plan, by_id: dict[str, types.Job], wanted: set[str], env: Environment
) -> None:
    """Listed jobs no file describes: ours are deleted, others with our prefix are reported."""
    for job_id, job in sorted(by_id.items()):
        if job_id in wanted:
            continue
        if is_owned(job, env):
            plan.actions.append(Action(DELETE, job_id, reason="its schedule file is gone"))
        elif job_id.startswith(env.job_prefix):
            plan.unowned.append(job_id)


def compute_plan(desired: list[Desired], actual: list[types.Job], env: Environment) -> Plan:
    """Compare the desired jobs with the jobs listed in the environment's location."""
    plan = Plan(environment=env.name, parent=env.parent)
    by_id = {short_id(job.name): job for job in actual}
    for want in desired:
        have = by_id.get(want.job_id)
        if have is None:
            plan.actions.append(_create_action(want))
        elif not is_owned(have, env):
            plan.conflicts.append(
                f"{want.schedule.file}: job '{want.job_id}' already exists in {env.parent} but "
                f"is not managed by these files (no '{'X-Managed-By'}' marker for environment "
                f"'{env.name}'); rename the schedule, or delete that job by hand"
            )
        else:
            _plan_existing(plan, want, have)
    _plan_leftovers(plan, by_id, {want.job_id for want in desired}, env)
    plan.owned = sum(1 for job in actual if is_owned(job, env))
    plan.actions.sort(key=lambda a: (a.kind.order, a.job_id))
    return plan
