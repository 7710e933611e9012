"""Benchmarks: the Odoo ingest benchmark needs the bench's real servers; make test-odoo alone collects it."""

from tests.kit.odoo_server import Bench

collect_ignore = [] if Bench.from_env() else ["test_odoo_ingest_benchmark.py"]
