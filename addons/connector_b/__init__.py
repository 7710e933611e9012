# connector_b: the plain-Python import engine (engine/), the models, the upload wizard and the import API.
from . import controllers, models, wizards
