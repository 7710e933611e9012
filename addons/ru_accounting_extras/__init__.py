# Package of ru_accounting_extras: the Python models, reports, wizards and the install hook.
from . import models, report, wizards
from .hooks import post_init_hook
