# The dialog that shows a newly issued till token once.
from . import till_token_reveal
