# Models: stores of a user, patients' consent, prescriptions and their access log and recalls, lenses,
# stock grid, glasses jobs.
from . import (
    lens,
    lens_grid,
    manufacturing_order,
    prescription,
    prescription_access,
    prescription_recall,
    product,
    res_partner,
    res_users,
)
