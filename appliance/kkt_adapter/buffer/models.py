"""Peewee models of the buffer: receipts, idempotency keys, events, DLQ, shifts, KKT and HLC state, cash
operations (cash in / cash out, schema v4), a receipt's glasses job and advance offset (schema v5)."""

from __future__ import annotations

import peewee

from kkt_adapter import hlc as hlc_mod
from kkt_adapter.buffer.connection import database

#: Delivery status of a receipt (owner's plan): pending until delivered, syncing while a runner holds it.
SYNC_STATUSES = ("pending", "syncing", "synced", "failed")
#: Fiscal status (phase 1): accepted = journaled, printing = sent to the KKT with the FN's last FD
#: recorded, printed = FD/FP stored, rejected = the KKT refused this receipt for good.
FISCAL_STATUSES = ("accepted", "printing", "printed", "rejected")
RECEIPT_KINDS = ("sale", "refund", "correction")

EVENT_TYPES = (
    # owner's plan
    "receipt_added",
    "receipt_synced",
    "receipt_failed",
    "circuit_opened",
    "circuit_closed",
    "sync_started",
    "sync_completed",
    # fiscal state machine (docs/receipt-state-machine.md)
    "print_started",
    "receipt_printed",
    "print_failed",
    "print_unknown",
    "reconciled_printed",
    "reconciled_not_printed",
    "receipt_rejected",
    # shift and reports
    "shift_opened",
    "shift_closed",
    "x_report",
    # phase 2: delivery to the OFD and to Odoo (schema v2)
    "fn_document_captured",
    "ofd_delivered",
    "odoo_delivered",
    "delivery_failed",
    "lease_expired",
    "ofd_ack_applied",
    "dlq_retried",
    "dlq_resolved",
    "refund_compensated",
    "network_status_changed",
    "fn_backlog_warning",
    # Odoo lost a delivered receipt (the central server restored from a backup): sent again (schema v6)
    "odoo_redelivery_queued",
)
DELIVERY_TARGETS = ("ofd", "odoo")
DELIVERY_STATUSES = ("pending", "syncing", "delivered", "failed")


def _check(column: str, values: tuple[str, ...]) -> peewee.SQL:
    return peewee.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Receipt(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36)  # UUIDv4
    pos_id = peewee.CharField(max_length=64)
    kind = peewee.CharField(max_length=16, constraints=[_check("kind", RECEIPT_KINDS)])
    created_at = peewee.IntegerField()  # unix seconds (wall clock, for humans)
    hlc_local_time = peewee.BigIntegerField()  # HLC wall part, ms
    hlc_logical_counter = peewee.IntegerField()
    hlc_server_time = peewee.BigIntegerField(null=True)  # Odoo's server time (ms) when the receipt arrived
    # The request exactly as the POS sent it (JSON text): for the admin views and Odoo, never re-validated.
    document = peewee.TextField()
    total = peewee.BigIntegerField()  # kopecks
    # The validated receipt, typed (with its lines in receipt_items): what the KKT is asked to print.
    # Null only on a receipt journaled before schema v3 until fiscal/document.py types it at start-up.
    settlement = peewee.IntegerField(null=True)  # FFD 1054: 1 sale, 2 sale return, 3/4 purchase (return)
    taxation_system = peewee.IntegerField(null=True)  # FFD 1055
    cash = peewee.BigIntegerField(null=True)  # FFD 1031, kopecks
    electronic = peewee.BigIntegerField(null=True)  # FFD 1081, kopecks
    buyer_contact = peewee.CharField(max_length=64, null=True)  # FFD 1008
    correction_type = peewee.IntegerField(null=True)  # FFD 1173; null = not a correction receipt
    correction_basis_date = peewee.CharField(max_length=10, null=True)  # FFD 1178, YYYY-MM-DD
    correction_basis_number = peewee.CharField(max_length=32, null=True)  # FFD 1179
    cashier_name = peewee.CharField(max_length=64, null=True)  # FFD 1021; null = no cashier sent (schema v4)
    cashier_inn = peewee.CharField(max_length=12, null=True)  # FFD 1203 (schema v4)
    # A glasses job's advance and its offset (schema v5): FFD 1192 (the job, null when none was named) and
    # FFD 1215 (kopecks of an advance offset by this receipt; 0 when none).
    job_ref = peewee.CharField(max_length=16, null=True)
    prepayment = peewee.BigIntegerField(default=0, constraints=[peewee.SQL("DEFAULT 0")])
    status = peewee.CharField(max_length=16, default="pending", constraints=[_check("status", SYNC_STATUSES)])
    fiscal_status = peewee.CharField(
        max_length=16, default="accepted", constraints=[_check("fiscal_status", FISCAL_STATUSES)]
    )
    fd_before = peewee.BigIntegerField(null=True)  # FN's last FD read just before printing
    fn_number = peewee.CharField(max_length=16, null=True)
    fd_number = peewee.BigIntegerField(null=True)
    fiscal_sign = peewee.BigIntegerField(null=True)
    fiscal_datetime = peewee.CharField(max_length=32, null=True)
    shift_number = peewee.IntegerField(null=True)
    fiscal_document_type = peewee.IntegerField(
        null=True
    )  # FFD document type once printed: 3, or 31 correction
    print_attempts = peewee.IntegerField(default=0)
    retry_count = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    synced_at = peewee.IntegerField(null=True)
    original_receipt = peewee.ForeignKeyField("self", null=True, backref="refunds", on_delete="RESTRICT")

    @property
    def hlc(self) -> hlc_mod.Timestamp:
        """The receipt's HLC timestamp (its text form is ``str()`` of it, the one formatter in hlc.py)."""
        return hlc_mod.Timestamp(self.hlc_local_time, self.hlc_logical_counter)

    class Meta:
        table_name = "receipts"
        indexes = (
            (("status",), False),
            (("fiscal_status",), False),
            (("created_at",), False),
            (("hlc_server_time", "hlc_local_time", "hlc_logical_counter"), False),
            (("fn_number", "fd_number"), True),
            (("job_ref",), False),
        )


class ReceiptItem(BaseModel):
    """One line of a receipt as validated (FFD 1059): what the KKT prints for it."""

    receipt = peewee.ForeignKeyField(Receipt, backref="lines", column_name="receipt_id", on_delete="RESTRICT")
    position = peewee.IntegerField()  # 0-based order on the receipt
    name = peewee.CharField(max_length=128)  # FFD 1030
    price = peewee.BigIntegerField()  # FFD 1079, kopecks per unit
    quantity_micro = peewee.BigIntegerField()  # FFD 1023 in millionths (at most 6 decimals: exact)
    amount = peewee.BigIntegerField()  # FFD 1043, kopecks
    vat = peewee.IntegerField()  # FFD 1199 code
    payment_method = peewee.IntegerField()  # FFD 1214
    payment_subject = peewee.IntegerField()  # FFD 1212
    measure_unit = peewee.IntegerField()  # FFD 2108
    department = peewee.IntegerField()

    class Meta:
        table_name = "receipt_items"
        indexes = ((("receipt", "position"), True),)


class IdempotencyKey(BaseModel):
    key = peewee.CharField(primary_key=True, max_length=36)
    request_hash = peewee.CharField(max_length=64)  # sha256 of the canonical request JSON
    receipt = peewee.ForeignKeyField(Receipt, backref="keys", on_delete="RESTRICT")
    status_code = peewee.IntegerField(null=True)  # null until the first answer was stored
    response = peewee.TextField(null=True)  # JSON of the stored answer
    created_at = peewee.IntegerField()

    class Meta:
        table_name = "idempotency_keys"


class BufferEvent(BaseModel):
    id = peewee.AutoField()
    event_type = peewee.CharField(max_length=32, constraints=[_check("event_type", EVENT_TYPES)])
    receipt = peewee.ForeignKeyField(Receipt, null=True, column_name="receipt_id", on_delete="RESTRICT")
    timestamp = peewee.BigIntegerField()  # unix ms (wall clock)
    hlc = peewee.CharField(max_length=24)  # HLC of the event, fixed-width sortable text
    metadata = peewee.TextField(null=True)  # JSON

    class Meta:
        table_name = "buffer_events"
        indexes = ((("receipt", "id"), False),)


class Delivery(BaseModel):
    """One fiscal document to deliver to one target: every FN document to the OFD (receipts and shift
    reports alike, or the FN blocks), every printed receipt to Odoo."""

    id = peewee.AutoField()
    target = peewee.CharField(max_length=8, constraints=[_check("target", DELIVERY_TARGETS)])
    fn_number = peewee.CharField(max_length=16)
    fd = peewee.BigIntegerField()
    doc_type = peewee.IntegerField()
    receipt = peewee.ForeignKeyField(Receipt, null=True, column_name="receipt_id", on_delete="RESTRICT")
    payload = peewee.BlobField(null=True)  # OFD: the FN's document message, as read from the KKT
    status = peewee.CharField(
        max_length=16, default="pending", constraints=[_check("status", DELIVERY_STATUSES)]
    )
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    next_attempt_at = peewee.FloatField(default=0.0)  # unix time; backoff with jitter
    lease_owner = peewee.CharField(max_length=64, null=True)
    lease_until = peewee.FloatField(null=True)
    hlc = peewee.CharField(max_length=24)  # delivery order
    created_at = peewee.IntegerField()
    delivered_at = peewee.IntegerField(null=True)
    ack = peewee.BlobField(null=True)  # OFD acknowledgment still to be handed to the FN
    ack_applied_at = peewee.IntegerField(null=True)

    class Meta:
        table_name = "deliveries"
        indexes = (
            (("target", "fn_number", "fd"), True),
            (("status", "next_attempt_at"), False),
            (("receipt",), False),
            # The heartbeat's fiscal check reads an FN's recent deliveries (buffer/redelivery.py; v6).
            (("target", "fn_number", "delivered_at"), False),
        )


class Dlq(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36)
    # Null for FN documents that are not receipts (shift reports): they must reach the OFD too.
    original_receipt = peewee.ForeignKeyField(
        Receipt, null=True, column_name="original_receipt_id", on_delete="RESTRICT"
    )
    delivery = peewee.ForeignKeyField(Delivery, null=True, column_name="delivery_id", on_delete="RESTRICT")
    failed_at = peewee.IntegerField()
    reason = peewee.TextField()
    fiscal_doc = peewee.TextField()
    retry_attempts = peewee.IntegerField()
    last_error = peewee.TextField(null=True)
    resolved_at = peewee.IntegerField(null=True)
    resolved_by = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "dlq"


class Shift(BaseModel):
    id = peewee.AutoField()
    fn_number = peewee.CharField(max_length=16)
    number = peewee.IntegerField()
    status = peewee.CharField(max_length=8, constraints=[_check("status", ("open", "closed"))])
    opened_at = peewee.IntegerField()
    open_fd = peewee.BigIntegerField(null=True)
    closed_at = peewee.IntegerField(null=True)
    close_fd = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "shifts"
        indexes = ((("fn_number", "number"), True),)


class KktState(BaseModel):
    """Single row (id=1): what the adapter last learned from the FN."""

    id = peewee.IntegerField(primary_key=True)
    fn_number = peewee.CharField(max_length=16, null=True)
    last_fd_seen = peewee.BigIntegerField(null=True)
    updated_at = peewee.IntegerField(null=True)

    class Meta:
        table_name = "kkt_state"


class HlcState(BaseModel):
    """Single row (id=1): the last HLC timestamp issued by any process on this till."""

    id = peewee.IntegerField(primary_key=True)
    wall_ms = peewee.BigIntegerField()
    logical = peewee.IntegerField()

    class Meta:
        table_name = "hlc_state"


class BreakerState(BaseModel):
    """pybreaker state shared by every process on the till (adapter, sync runner)."""

    name = peewee.CharField(primary_key=True, max_length=16)
    state = peewee.CharField(max_length=16, default="closed")
    fail_counter = peewee.IntegerField(default=0)
    success_counter = peewee.IntegerField(default=0)
    opened_at = peewee.FloatField(null=True)

    class Meta:
        table_name = "breaker_state"


class Counter(BaseModel):
    """Monotonic counters written by any process and exported by the adapter's /metrics."""

    name = peewee.CharField(max_length=64)
    labels = peewee.CharField(max_length=128, default="")
    value = peewee.FloatField(default=0.0)

    class Meta:
        table_name = "counters"
        primary_key = peewee.CompositeKey("name", "labels")


#: A cash in / cash out (fiscal/cash.py): accepted = journaled, nothing sent; sending = the KKT's counters
#: recorded and the command sent or about to be — in doubt until the KKT's counters decide; done = the KKT
#: recorded it; refused = not enough cash (final); failed = certainly not recorded (a retry sends it again).
CASH_STATUSES = ("accepted", "sending", "done", "refused", "failed")
CASH_KINDS = ("in", "out")


class CashOperation(BaseModel):
    """One cash in / cash out requested by the POS under an Idempotency-Key (its own namespace of keys)."""

    id = peewee.CharField(primary_key=True, max_length=36)  # operation_id, UUIDv4
    key = peewee.CharField(max_length=36, unique=True)  # Idempotency-Key
    request_hash = peewee.CharField(max_length=64)  # sha256 of the canonical request JSON
    document = peewee.TextField()  # the request as the POS sent it (JSON text)
    kind = peewee.CharField(max_length=3, constraints=[_check("kind", CASH_KINDS)])
    amount = peewee.BigIntegerField()  # kopecks
    cashier_name = peewee.CharField(max_length=64, null=True)  # FFD 1021 as the POS sent it
    cashier_inn = peewee.CharField(max_length=12, null=True)  # FFD 1203
    status = peewee.CharField(max_length=8, default="accepted", constraints=[_check("status", CASH_STATUSES)])
    # Read from the KKT just before the command was sent: they decide a doubt afterwards.
    fn_number = peewee.CharField(max_length=16, null=True)
    document_number_before = peewee.IntegerField(null=True)  # through number of the last document
    number_before = peewee.IntegerField(null=True)  # running number of this kind's documents
    document_number = peewee.IntegerField(null=True)  # the cash document's through number once done
    cash_in_drawer = peewee.BigIntegerField(null=True)  # kopecks, read right after (null if unread)
    attempts = peewee.IntegerField(default=0)  # commands sent
    last_error = peewee.TextField(null=True)
    status_code = peewee.IntegerField(null=True)  # the final answer (done / refused), replayed as stored
    response = peewee.TextField(null=True)
    created_at = peewee.IntegerField()  # unix seconds
    updated_at = peewee.IntegerField()

    class Meta:
        table_name = "cash_operations"
        indexes = ((("status",), False),)


ALL_MODELS = (
    Receipt,
    ReceiptItem,
    IdempotencyKey,
    BufferEvent,
    Delivery,
    Dlq,
    Shift,
    KktState,
    HlcState,
    BreakerState,
    Counter,
    CashOperation,
)
