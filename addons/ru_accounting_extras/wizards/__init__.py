# Wizards of ru_accounting_extras.
from . import acquiring_clearing
