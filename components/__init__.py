"""KFP components: the Spark-step factory (Dataproc Serverless or local Spark), light steps."""
