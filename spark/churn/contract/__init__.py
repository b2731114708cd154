# Copied from contract/__init__.py by `python -m contract.vendor`; edit the original.
"""The project's contract: rules that more than one deployable needs, in one place.

`schedule.py`, `compile.py`, `run.py`, the pipeline steps and the trigger function all import
this package; the trigger function carries a copy of it in its own folder (it is deployed as that
folder alone), and a test keeps that copy identical to this one. Pure logic only: no I/O, no
Google Cloud imports, standard library only.
"""
