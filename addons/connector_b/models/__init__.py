# connector_b models: profiles, jobs and their row log, the supplier's stock on vendor lines, till blocks.
from . import job, job_block, job_run, log, profile, supplierinfo, till
