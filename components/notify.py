"""`notify_failure`: the exit-handler step that publishes a failure alert to Pub/Sub.

Wired by a pipeline with `alert_on_failure`:

    with alert_on_failure(alerts_topic, environment, fire_time):
        ...every step...

An exit task runs whatever happened inside the handler, and KFP fills `status` (a
`dsl.PipelineTaskFinalStatus`) with the group's final state, the job's resource name and the
error; when a Dataproc batch failed, that error names the failed task and carries the batch's
own error. Nothing is published for a run that succeeded, or when the environment has no
`alerts.pubsub_topic` (then `alerts_topic` is '').
"""

from typing import Any

from kfp import dsl

from components.images import component, no_cache


@component
def notify_failure(
    status: dsl.PipelineTaskFinalStatus,
    alerts_topic: str,
    environment: str,
    fire_time: str = "",
) -> str:
    """Publish an alert when the run failed or was cancelled; returns the message id or why not."""
    from components.failure_alerts import publish_failure

    return publish_failure(
        state=status.state,
        job_resource_name=status.pipeline_job_resource_name,
        task_name=status.pipeline_task_name,
        error_message=status.error_message or "",
        error_code=status.error_code,
        topic=alerts_topic,
        environment=environment,
        fire_time=fire_time,
    )


# The publishing code lives in components/failure_alerts.py (no KFP imports: the step imports it
# inside KFP's executor); re-exported for callers that know it from here.
from components.failure_alerts import ATTEMPTS, publish, publish_failure, publisher_client  # noqa: E402

__all__ = ["ATTEMPTS", "notify_failure", "publish", "publish_failure", "publisher_client"]


def alert_on_failure(alerts_topic: Any, environment: Any, fire_time: Any) -> dsl.ExitHandler:
    """The exit handler a pipeline runs all its steps in: whatever fails, a Dataproc batch
    included, notify-failure runs after it with the run's final status and alerts the
    environment."""
    notify = no_cache(
        notify_failure(alerts_topic=alerts_topic, environment=environment, fire_time=fire_time),
        "notify-failure",
    )
    return dsl.ExitHandler(notify, name="run")
