"""The on-call side of `schedule.py`: status, run, backfill, pause and resume.

scheduling/ reconciles schedule files into Cloud Scheduler jobs; this package answers "did it run,
and if not why" (status.py over runs.py's one paged list of PipelineJobs), starts runs by hand or
for past slots as Cloud Scheduler would (manual.py, invoke.py, backfill.py), and holds jobs paused
through an incident (hold.py). cli.py is their commands, plugged into schedule.py's parser.
"""
