"""One-command, idempotent Google Cloud setup of an environment (`infra/bootstrap.py`).

`envfile` reads and checks the environment file, `desired` says what the environment needs
(pure), `steps` turns that into look-then-create gcloud steps, `gcloud` runs them (or only
prints them), `todo` lists what is left to do by hand, `cli` ties it together.
"""
