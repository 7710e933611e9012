# Wizards: generating a lens design's stock grid (Sph x Cyl variants); remaking a glasses job.
from . import lens_grid_wizard, remake_wizard
