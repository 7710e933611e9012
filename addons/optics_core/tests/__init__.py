# Tests of optics_core: prescriptions (rules, consent, per-store access, the access log), lenses, grids.
from . import test_lens, test_lens_grid, test_prescription, test_prescription_access, test_translation
