"""Benchmarks: the Odoo benchmarks need the bench's real servers; make test-odoo alone collects them."""

from tests.kit.odoo_server import Bench

ODOO_BENCHMARKS = ["test_odoo_ingest_benchmark.py", "test_lens_grid_benchmark.py"]
collect_ignore = [] if Bench.from_env() else ODOO_BENCHMARKS
