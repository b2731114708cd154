"""Schedules as code: `schedules/*.yaml` validated against the compiled pipelines and reconciled
into Cloud Scheduler jobs (the package behind `schedule.py`).

Pure logic (loading with line numbers, validation, desired jobs, diffing, fire times) lives in
`yamlfile`, `spec`, `cron`, `params`, `validate`, `jobs`, `diff`, `render`; the I/O is in `api`
(client factory, paged listing, retries) and `apply`; `cli` wires them to the command line.
"""
