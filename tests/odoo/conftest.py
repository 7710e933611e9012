"""Real-server scenarios, run only by ``make test-odoo``, which exports the bench (``ODOO_BENCH_*``)."""

from __future__ import annotations

import pytest

from tests.kit.odoo_server import Bench


@pytest.fixture(scope="session")
def bench() -> Bench:
    found = Bench.from_env()
    if found is None:
        pytest.fail(
            "tests/odoo runs inside make test-odoo (tests/setup/odoo_bench.py), which sets ODOO_BENCH_*"
        )
    return found
