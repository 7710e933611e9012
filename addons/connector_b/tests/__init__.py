# connector_b's Odoo tests.
from . import (
    test_held_block,
    test_import_api,
    test_import_run,
    test_import_tour,
    test_pos_refresh,
    test_profiles_grid_resume,
    test_query_count,
)
