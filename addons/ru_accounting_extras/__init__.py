# Package of ru_accounting_extras: the Python models and the install hook.
from . import models
from .hooks import post_init_hook
