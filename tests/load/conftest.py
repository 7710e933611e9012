"""Benchmarks: the Odoo benchmarks need the bench's real servers; make test-odoo alone collects them."""

import pytest

from tests.kit.odoo_server import Bench

ODOO_BENCHMARKS = [
    "test_odoo_ingest_benchmark.py",
    "test_lens_grid_benchmark.py",
    "test_pos_wait_benchmark.py",
    "test_connector_import_benchmark.py",
]
collect_ignore = [] if Bench.from_env() else ODOO_BENCHMARKS


@pytest.fixture(scope="session")
def bench() -> Bench:
    """The Odoo bench these benchmarks run on (``ODOO_BENCH_*``, exported by tests/setup/odoo_bench.py)."""
    found = Bench.from_env()
    assert found is not None, "collected only inside make test-odoo (see collect_ignore above)"
    return found
