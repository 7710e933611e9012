# Models: stores of a user, patients' consent, prescriptions and their access log, lenses, stock grid.
from . import (
    lens,
    lens_grid,
    prescription,
    prescription_access,
    product,
    res_partner,
    res_users,
)
