"""The code behind compile.py: compile every pipeline for a target, check build/, publish a version
(templates with an environment's values, the Spark code and churn.zip), and measure a compiled
template's critical path (bench/vertex_plan.py)."""
