"""The kinds of change a plan holds: each knows its order, its sign in a plan and how it writes.

One type per kind (octodns-style) instead of a string looked up in the planner, the renderer and
the applier: adding a kind means adding one class here. `write` makes the kind's Cloud Scheduler
calls for one job and returns how many writes landed; a kind that needs two calls and gets only
the first in raises `PartialWriteError` saying exactly what landed and what is left wrong.

Concurrency: two applies of the same files (or a retried call whose first attempt landed) may
find a job already created or already deleted. That is the state they both want, so it is not
an error: create then compares the job that exists with the one it wanted, delete accepts that
the job is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from google.api_core import exceptions as gexc
from google.protobuf import field_mask_pb2

from scheduling.api import CALL_TIMEOUT, RetryPolicy
from scheduling.jobs import flatten

if TYPE_CHECKING:
    from scheduling.diff import Action


class PartialWriteError(Exception):
    """Some of a kind's writes landed and a later one failed; `landed` counts the first ones."""

    def __init__(self, landed: int, message: str) -> None:
        super().__init__(message)
        self.landed = landed
        self.message = message


class Kind:
    """One kind of change. Instances are singletons (CREATE, UPDATE, ...), compared by identity."""

    name: ClassVar[str]
    #: applied in this order: create before update before pause/resume before delete
    order: ClassVar[int]
    #: the mark before the job id in a plan
    sign: ClassVar[str]
    #: how a completed action is reported ("created dev-x")
    past: ClassVar[str]

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        """Make this kind's calls for `action`; the number of writes that landed."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Kind.{self.name.upper()}"


def _name(parent: str, action: Action) -> str:
    return f"{parent}/jobs/{action.job_id}"


class _Create(Kind):
    name, order, sign, past = "create", 0, "+", "created"

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        landed = _create(client, parent, action, retry)
        if not action.paused:
            return landed
        # CreateJob ignores `state` (output only), so a job that must start paused is created
        # live and paused straight after; until then it could fire.
        try:
            retry.call(
                lambda: client.pause_job(
                    name=_name(parent, action), retry=None, timeout=CALL_TIMEOUT
                )
            )
        except gexc.GoogleAPICallError as err:
            raise PartialWriteError(
                landed,
                f"created, but pausing failed ({type(err).__name__}: {err.message}): the job is "
                "ENABLED and will fire although its file says enabled: false; run apply again "
                "to pause it",
            ) from err
        return landed + 1


def _create(client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
    """Create the job; 0 writes when an identical job already exists (created concurrently)."""
    try:
        retry.call(
            lambda: client.create_job(
                parent=parent, job=action.job, retry=None, timeout=CALL_TIMEOUT
            )
        )
        return 1
    except gexc.AlreadyExists:
        existing = retry.call(
            lambda: client.get_job(name=_name(parent, action), retry=None, timeout=CALL_TIMEOUT)
        )
    if flatten(existing) != flatten(action.job):
        raise gexc.AlreadyExists(
            "a job with this id appeared since the plan was made and differs from the schedule "
            "file; run apply again to see the difference"
        )
    return 0


class _Update(Kind):
    name, order, sign, past = "update", 1, "~", "updated"

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        mask = field_mask_pb2.FieldMask(paths=list(action.update_mask))
        retry.call(
            lambda: client.update_job(
                job=action.job, update_mask=mask, retry=None, timeout=CALL_TIMEOUT
            )
        )
        return 1


class _Pause(Kind):
    name, order, sign, past = "pause", 2, "‖", "paused"

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        retry.call(
            lambda: client.pause_job(name=_name(parent, action), retry=None, timeout=CALL_TIMEOUT)
        )
        return 1


class _Resume(Kind):
    name, order, sign, past = "resume", 3, ">", "resumed"

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        retry.call(
            lambda: client.resume_job(name=_name(parent, action), retry=None, timeout=CALL_TIMEOUT)
        )
        return 1


class _Delete(Kind):
    name, order, sign, past = "delete", 4, "-", "deleted"

    def write(self, client: Any, parent: str, action: Action, retry: RetryPolicy) -> int:
        try:
            retry.call(
                lambda: client.delete_job(
                    name=_name(parent, action), retry=None, timeout=CALL_TIMEOUT
                )
            )
        except gexc.NotFound:
            return 0  # already gone: deleted by a concurrent apply, or a retried call landed
        return 1


CREATE, UPDATE, PAUSE, RESUME, DELETE = _Create(), _Update(), _Pause(), _Resume(), _Delete()
#: Every kind, in the order a plan applies them.
KINDS: tuple[Kind, ...] = (CREATE, UPDATE, PAUSE, RESUME, DELETE)
