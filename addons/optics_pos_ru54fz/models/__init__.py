# Models: tills (pos.offline.buffer.status), fiscal documents, the till API's error pages.
# isort: skip_file
# The token mixin is registered before the till model that inherits it.
from . import till_token
from . import fiscal_document, ir_http, order_from_document, pos_order, till, till_digest
from . import (
    pos_config,
    pos_session,
    pos_session_offline,
    product,
    res_config_settings,
    res_users,
    shift_report,
)
