# Wizards: generating a lens design's stock grid (Sph x Cyl variants).
from . import lens_grid_wizard
