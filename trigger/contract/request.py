# Copied from contract/request.py by `python -m contract.vendor`; edit the original.
"""The trigger request: what `schedule.py` writes into a Cloud Scheduler job's HTTP body and
what the trigger function accepts (the two ends of one contract).
"""

from __future__ import annotations

#: Body fields the function understands; anything else is refused so typos do not pass silently.
BODY_FIELDS = (
    "pipeline",
    "template",
    "parameters",
    "schedule",
    "max_concurrent_runs",
    # the schedule's IANA zone: `{fire_date}` in parameters is the fire's date there
    "time_zone",
)
#: Largest `max_concurrent_runs` a schedule may ask for (the trigger refuses more with a 400).
MAX_CONCURRENT_RUNS = 1000
#: Headers Cloud Scheduler adds to every call; honoured only from the scheduler's own identity.
SCHEDULER_HEADERS = (
    "X-CloudScheduler",
    "X-CloudScheduler-JobName",
    "X-CloudScheduler-ScheduleTime",
)
