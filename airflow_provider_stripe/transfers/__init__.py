"""Transfers: Stripe lists copied into Airflow's object storage (``file://``, ``s3://``, ``gs://``...)."""
