-- Metric history of every trained model version, with what each version went on to score.
-- Runs as is on the local DuckDB file; on BigQuery prefix the tables with `project.dataset.`.
SELECT
  m.trained_at,
  m.model_version,
  m.classifier,
  round(m.auc_pr, 3) AS auc_pr,
  round(m.auc_roc, 3) AS auc_roc,
  m.gate_passed,
  m.promoted,
  count(p.customer_id) AS predictions,
  count(DISTINCT p.pipeline_job) AS scoring_runs,
  round(avg(p.churn_probability), 3) AS mean_churn_probability,
  max(p.scoring_date) AS last_scored
FROM model_metrics AS m
LEFT JOIN predictions AS p USING (model_version)
GROUP BY ALL
ORDER BY m.trained_at
