"""The Spark session every job uses: local[*] unless SPARK_MASTER / SPARK_REMOTE say otherwise."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Small data on few cores: the default 200 shuffle partitions cost more in task overhead than
# the work itself, so local masters get a handful.
LOCAL_SHUFFLE_PARTITIONS = "4"
# A local job lives for seconds to a few minutes on a couple of cores: the serial collector and
# the quick (C1) JIT halve its wall time against the server defaults (bench/spark_jobs.py).
# CHURN_LOCAL_JVM_OPTIONS overrides them ("" = JVM defaults).
LOCAL_JVM_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def launched_by_spark_submit() -> bool:
    """True when a JVM started this Python process (spark-submit, Dataproc): it owns the master."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def is_connect(spark: SparkSession) -> bool:
    """True for a Spark Connect session (no JVM gateway on this side)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def local_settings() -> dict[str, str]:
    """Spark settings for a local master: few partitions, no UI, quick JVM (env overrides)."""
    settings = {
        "spark.sql.shuffle.partitions": LOCAL_SHUFFLE_PARTITIONS,
        "spark.default.parallelism": LOCAL_SHUFFLE_PARTITIONS,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.driver.host": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
    }
    jvm_options = os.environ.get("CHURN_LOCAL_JVM_OPTIONS", LOCAL_JVM_OPTIONS)
    if jvm_options:
        # defaultJavaOptions: prepended to any user extraJavaOptions, which still win.
        settings["spark.driver.defaultJavaOptions"] = jvm_options
    driver_memory = os.environ.get("SPARK_DRIVER_MEMORY")
    if driver_memory:
        settings["spark.driver.memory"] = driver_memory
    return settings


def get_session(app_name: str) -> SparkSession:
    """Create (or reuse) the session for ``app_name`` with quiet, fast settings for local runs."""
    from pyspark.sql import SparkSession

    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        return SparkSession.builder.appName(app_name).remote(remote).getOrCreate()

    builder = SparkSession.builder.appName(app_name)
    master = os.environ.get("SPARK_MASTER")
    if not master and not launched_by_spark_submit():
        master = "local[*]"
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        for key, value in local_settings().items():
            builder = builder.config(key, value)
    builder = builder.config("spark.log.level", os.environ.get("SPARK_LOG_LEVEL", "ERROR"))
    spark = builder.getOrCreate()
    if not master and spark.conf.get("spark.master", "").startswith("local"):
        # spark-submit without --master runs locally too; the SQL setting can still change.
        spark.conf.set("spark.sql.shuffle.partitions", LOCAL_SHUFFLE_PARTITIONS)
    return spark
