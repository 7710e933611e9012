# Package of ru_accounting_extras: the Python models, the wizards and the install hook.
from . import models, wizards
from .hooks import post_init_hook
