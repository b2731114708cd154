"""Shared code of the churn Spark jobs (shipped to Dataproc as churn.zip).

Only the standard library, numpy and pyspark may be imported from here, and nothing is read
relative to ``__file__``: the package runs from a zip on the cluster.
"""
