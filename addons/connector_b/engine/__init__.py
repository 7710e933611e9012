"""connector_b's import engine: supplier price lists (xlsx, CSV) streamed into checked, classified rows.

Plain Python (openpyxl only), importable without Odoo — by the addon as ``odoo.addons.connector_b.engine``
and by the unit tests by file path; every import inside the package is relative. The addon calls:

- ``Profile.from_dict(dict)`` / ``profile.to_dict()`` — the profile as the model stores it;
- ``ImportRun(source, profile, prices=…, grid_check=…, currency_rate=…, start_chunk=…)`` — iterate for
  ``Chunk``s of ``ImportRow``s; ``run.counters``, ``run.report_columns``, ``run.describe()``;
- ``grid_checker({"sph": rx.SPH, …})`` — the optical grid check from optics_core's grids;
- ``write_rejected_xlsx`` / ``write_rejected_csv`` — the rejected-rows report;
- ``RetailRule``, ``apply_markup``, ``round_to_ending`` — retail prices;
- ``ImportFileError`` (``ProfileError``) — a file or profile that cannot be imported, Russian message;
- ``BUILTIN_PROFILES`` — the sample suppliers' profiles (``profiles_builtin``).
"""

from .classify import (
    CHANGED_DOWN,
    CHANGED_UP,
    HELD,
    NEW,
    REJECTED,
    STATUS_LABELS,
    STATUSES,
    UNCHANGED,
    classify,
)
from .errors import CellError, ImportFileError, ProfileError
from .grids import grid_checker
from .pipeline import Chunk, Counters, ImportRow, ImportRun
from .pricing import RetailRule, apply_markup, round_to_ending
from .profile import LENS_GRID, PRODUCTS, Profile
from .profiles_builtin import BUILTIN_PROFILES
from .report import write_rejected_csv, write_rejected_xlsx
from .table import open_table
from .validate import Reason, ean13_check_digit

__all__ = [
    "BUILTIN_PROFILES",
    "CHANGED_DOWN",
    "CHANGED_UP",
    "HELD",
    "LENS_GRID",
    "NEW",
    "PRODUCTS",
    "REJECTED",
    "STATUSES",
    "STATUS_LABELS",
    "UNCHANGED",
    "CellError",
    "Chunk",
    "Counters",
    "ImportFileError",
    "ImportRow",
    "ImportRun",
    "Profile",
    "ProfileError",
    "Reason",
    "RetailRule",
    "apply_markup",
    "classify",
    "ean13_check_digit",
    "grid_checker",
    "open_table",
    "round_to_ending",
    "write_rejected_csv",
    "write_rejected_xlsx",
]
