# Plain-Python helpers of the till API (no ORM): strict JSON, receipt rules, problem documents.
from . import heartbeat, problem, receipt_check, strict_json
