# Tests of optics_core: prescriptions (rules, consent, per-store access, the access log, recalls), lenses,
# grids, glasses jobs.
from . import (
    test_lens,
    test_lens_grid,
    test_manufacturing_order,
    test_prescription,
    test_prescription_access,
    test_recall,
    test_translation,
)
