"""Tests of the Spark jobs (spark/)."""
