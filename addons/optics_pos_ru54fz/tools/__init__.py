# Plain-Python helpers of the till API (no ORM): strict JSON, receipt rules, problem documents.
from . import fiscal_qr, heartbeat, problem, receipt_check, strict_json
