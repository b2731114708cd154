"""Schedules as code: `schedules/*.yaml` validated against the compiled pipelines and reconciled
into Cloud Scheduler jobs (the package behind `schedule.py`).

Pure logic (loading with line numbers, validation, desired jobs, diffing, fire times) lives in
`yamlfile`, `spec`, `cron`, `params`, `validate`, `jobs`, `diff`, `render`; the I/O is in `api`
(client factories, paged listing, retries), `actions` (each kind of change and its writes),
`apply` and `lock` (the per-environment apply lock on Cloud Storage); `cli` wires them to the
command line, with the on-call commands of `operations/` (status, run, backfill, pause, resume).
README.md here is the reference for the files and commands.
"""
