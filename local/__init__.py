"""The local runner behind run.py: a pipeline's DAG on this machine, on local Spark, with a report.

`run.py` (local/run_cli.py) compiles the pipeline for the `local` target (tooling/), runs it with
KFP's own local runner (local_run.py), gives every Spark step one Spark Connect server
(spark_server.py, kept warm between runs by kept_spark.py) and a warm Python (warm_python.py),
shows one line per step (run_console.py) and writes the report (report*.py).
"""

#: How a local run gets its Spark: "kept" (one Spark Connect server kept warm between runs,
#: kept_spark.py), "run" (one for the run, stopped at its end), "step" (a JVM per step).
SPARK_MODES = ("kept", "run", "step")
