"""Publishing a run's failure alert to Pub/Sub: the work of the notify-failure step.

A module of its own, with no KFP imports, because the step imports it at run time inside KFP's
executor, where `kfp.dsl` offers no decorators (components/notify.py holds the component).
"""

import os
import time

#: Publish attempts on UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED / ABORTED.
ATTEMPTS = 4


def publisher_client():
    """The GAPIC Publisher client (`$PUBSUB_EMULATOR_HOST`: plain-text gRPC, no credentials)."""
    from google import pubsub_v1

    host = os.environ.get("PUBSUB_EMULATOR_HOST")
    if host:
        import grpc
        from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

        return pubsub_v1.PublisherClient(
            transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host))
        )
    return pubsub_v1.PublisherClient()


def publish(topic: str, data: bytes, attributes: dict[str, str], sleep=time.sleep) -> str:
    """Publish one message (transient errors retried with backoff); its message id."""
    from google.api_core import exceptions as gexc
    from google.pubsub_v1 import types

    client = publisher_client()
    message = types.PubsubMessage(data=data, attributes=attributes)
    transient = (
        gexc.ServiceUnavailable,
        gexc.DeadlineExceeded,
        gexc.TooManyRequests,
        gexc.Aborted,
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = client.publish(topic=topic, messages=[message], retry=None, timeout=30)
            return response.message_ids[0]
        except transient:
            if attempt == ATTEMPTS:
                raise
            sleep(2.0**attempt)
    raise AssertionError("unreachable")


def publish_failure(
    *,
    state: str,
    job_resource_name: str,
    task_name: str,
    error_message: str,
    error_code: int | None,
    topic: str,
    environment: str,
    fire_time: str,
    sleep=time.sleep,
) -> str:
    """The exit handler's work, outside KFP so it is testable: publish when not SUCCEEDED."""
    from contract import alerts

    if state == "SUCCEEDED":
        print("run succeeded: no alert")
        return "no alert: succeeded"
    if not topic:
        print(f"run {state}: no alert sent (the environment sets no alerts.pubsub_topic)")
        return "no alert: no topic"
    job_id = job_resource_name.rsplit("/", 1)[-1]
    error = error_message or f"the run ended {state} (code {error_code})"
    data, attributes = alerts.message(
        alerts.RUN_FAILED,
        environment=environment,
        schedule=alerts.schedule_of(job_id, environment),
        fire_time=fire_time,
        error=error,
        step=alerts.failing_step(task_name, error),
        job_id=job_id,
        link=alerts.link_of(job_resource_name),
        state=state,
    )
    message_id = publish(topic, data, attributes, sleep=sleep)
    print(f"run {state}: alert {message_id} published to {topic}")
    return message_id
