# Models: tills (pos.offline.buffer.status), fiscal documents (with glasses jobs' advances), the till API's
# error pages.
# isort: skip_file
# The token mixin is registered before the till model that inherits it.
from . import till_token
from . import fiscal_document, ir_http, order_from_document, pos_order, till, till_digest

# Glasses jobs' advances and pickups extend the fiscal documents and optics_core's jobs.
from . import job_advance, job_pos, manufacturing_order

# The login-number mixin is registered before the pos.session extension that uses it.
from . import pos_session_offline
from . import (
    pos_config,
    pos_session,
    product,
    res_config_settings,
    res_users,
    shift_report,
)
