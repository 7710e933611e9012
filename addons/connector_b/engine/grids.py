"""The optical grid check the engine is given: built from grid objects, never imported by the engine.

Choice: the engine takes a callable ``grid_check(field, value) -> Decimal`` instead of importing
``optics_core/tools/rx.py``, so it runs without optics_core (and without Odoo) and the addon decides which
grids apply. ``grid_checker({"sph": rx.SPH, "cyl": rx.CYL, ...})`` builds that callable from any objects with
``check(value) -> Decimal`` raising ``ValueError`` with a Russian message — exactly rx's ``Grid``. A field
with no grid in the mapping is refused with a plain message rather than let through unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from .fields import FIELDS
from .validate import GridCheck


class Grid(Protocol):
    def check(self, value) -> Decimal: ...


def grid_checker(grids: Mapping[str, Grid]) -> GridCheck:
    """A ``grid_check`` callable from grids by field code (``sph``, ``cyl``, ``axis``, ``add``, ``bc``…)."""
    table = dict(grids)

    def check(field_code: str, value: Decimal) -> Decimal:
        grid = table.get(field_code)
        if grid is None:
            raise ValueError(f"{FIELDS[field_code].label}: для этого поля не задана сетка значений")
        return grid.check(value)

    check.fields = frozenset(table)  # type: ignore[attr-defined]
    return check
