# Services of connector_b that work on the database for the job: matching and the set-based upsert.
