"""The local Spark Connect server's settings (local/spark_server.py)."""

from local.spark_server import SOFT_REFERENCE_POLICY, server_settings


def test_the_server_keeps_the_ml_cache_models_and_the_local_jvm_options():
    base = {"spark.driver.defaultJavaOptions": "-XX:+UseSerialGC", "spark.ui.enabled": "false"}
    settings = server_settings(15002, base)
    options = settings["spark.driver.defaultJavaOptions"].split()
    assert options == ["-XX:+UseSerialGC", SOFT_REFERENCE_POLICY]
    assert settings["spark.connect.grpc.binding.port"] == "15002"
    assert settings["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert settings["spark.ui.enabled"] == "false"


def test_without_local_jvm_options_the_policy_stands_alone():
    assert server_settings(1, {})["spark.driver.defaultJavaOptions"] == SOFT_REFERENCE_POLICY
