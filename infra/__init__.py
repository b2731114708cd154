"""One-command, idempotent Google Cloud setup of an environment (`infra/bootstrap.py`).

`envfile` reads and checks the environment file, `desired` says what the environment needs
(pure), `plan` turns that into steps (`step` is their one type; the kinds live in `resources`,
`policy`, `roles`, `network`, `bigquery`, `pubsub`, `trigger_config`), `apply` runs them through
`gcloud` (or only prints them), `todo` lists what is left to do by hand, `cli` ties it together.
"""
