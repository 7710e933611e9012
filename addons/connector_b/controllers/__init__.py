# HTTP API of connector_b: submit a price list and poll its import job.
from . import import_api
