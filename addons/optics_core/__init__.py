# optics_core: prescriptions, patients' consent and the access log, lenses and their stock grid.
from . import models, wizards
