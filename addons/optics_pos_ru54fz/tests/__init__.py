# Tests of optics_pos_ru54fz (run by make test-odoo: tests/setup/odoo_bench.py).
from . import (
    test_access,
    test_fiscal_check,
    test_fiscal_document,
    test_fleet_page,
    test_heartbeat,
    test_job_advance,
    test_job_tour,
    test_pos_fiscal,
    test_pos_fiscal_fields,
    test_pos_offline,
    test_pos_order_link,
    test_till_api,
    test_till_token,
    test_translation,
)
