"""The warehouse: predictions, model metrics, feature importances and prepared data as tables.

BigQuery in the cloud (`warehouse.bigquery`), DuckDB locally (`warehouse.duckdb_store`), one
contract (`warehouse.schemas`), loads idempotent per pipeline job (`warehouse.loads`). The
prepared-data table is registered as a Vertex AI dataset by `warehouse.vertex_dataset`.
"""
