"""The project's contract: rules that more than one deployable needs, in one place.

`schedule.py`, `compile.py`, `run.py`, the pipeline steps and the trigger function all import
this package; the trigger is deployed as its folder alone, so its deploy command copies the
modules it imports into that folder first (`contract.vendor`), and churn.zip gets the output
manifest's module the same way. Pure logic only: no I/O, no Google Cloud imports, standard
library only.
"""
