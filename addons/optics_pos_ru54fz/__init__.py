# optics_pos_ru54fz: models (tills, fiscal documents), the till API controllers, the token wizard.
from . import controllers, models, wizards
