"""Shtrih-M device error codes (the ERROR byte of an answer) with their meanings.

Codes 0x01..0x2F come from the FN (fiscal storage), the rest from the KKT firmware. Only codes this project
meets are named as constants; :data:`MESSAGES` also covers the neighbours an operator may see.
"""

from __future__ import annotations

OK = 0x00

# FN (fiscal storage) errors
FN_UNKNOWN_COMMAND = 0x01
FN_WRONG_STATE = 0x02
FN_FAILURE = 0x03
FN_EXPIRED = 0x05
FN_ARCHIVE_FULL = 0x06
FN_BAD_DATETIME = 0x07
FN_NO_DATA = 0x08
FN_BAD_PARAMETERS = 0x09
FN_TLV_TOO_LARGE = 0x10
FN_OFD_WAIT_EXHAUSTED = 0x15  # the oldest document unconfirmed by the OFD is over 30 days old
FN_SHIFT_OVER_24H = 0x16
FN_OFD_MESSAGE_REJECTED = 0x20

# KKT errors
BAD_PARAMETERS = 0x33
COMMAND_NOT_SUPPORTED = 0x37
SHIFT_NOT_OPEN = 0x3D
PAYMENT_LESS_THAN_TOTAL = 0x45
INSUFFICIENT_CASH = 0x46  # a cash out (or cash refund) larger than the cash in the drawer
RECEIPT_OPEN = 0x4A
ELECTRONIC_OVER_TOTAL = 0x4D
SHIFT_OVER_24H = 0x4E
WRONG_PASSWORD = 0x4F
PREVIOUS_STILL_PRINTING = 0x50  # not executed: the printer is busy with the previous document
RECEIPT_CLOSED = 0x55
NO_RECEIPT_PAPER = 0x6B
NOT_IN_THIS_MODE = 0x73
ZERO_RECEIPT_TOTAL = 0x8E

MESSAGES: dict[int, str] = {
    OK: "no error",
    FN_UNKNOWN_COMMAND: "FN: unknown command, wrong format or unknown parameters",
    FN_WRONG_STATE: "FN: wrong FN state",
    FN_FAILURE: "FN: FN failure",
    0x04: "FN: crypto coprocessor failure",
    FN_EXPIRED: "FN: FN service life is over",
    FN_ARCHIVE_FULL: "FN: FN archive is full",
    FN_BAD_DATETIME: "FN: wrong date and/or time",
    FN_NO_DATA: "FN: no requested data",
    FN_BAD_PARAMETERS: "FN: wrong command parameter values",
    FN_TLV_TOO_LARGE: "FN: TLV data too large",
    0x11: "FN: no transport connection",
    0x12: "FN: crypto coprocessor resource exhausted",
    0x14: "FN: storage resource exhausted",
    FN_OFD_WAIT_EXHAUSTED: "FN: OFD transmission wait exhausted (document unconfirmed over 30 days)",
    FN_SHIFT_OVER_24H: "FN: shift lasts over 24 hours",
    0x17: "FN: wrong time difference between two operations",
    FN_OFD_MESSAGE_REJECTED: "FN: the message from the OFD cannot be accepted",
    0x2F: "FN: exchange timeout",
    0x30: "FN: FN does not answer",
    BAD_PARAMETERS: "incorrect command parameters",
    0x34: "no data",
    0x35: "incorrect parameter for these settings",
    0x36: "incorrect command parameters for this model",
    COMMAND_NOT_SUPPORTED: "command not supported by this model",
    SHIFT_NOT_OPEN: "shift is not open, operation impossible",
    PAYMENT_LESS_THAN_TOTAL: "sum of all payments is less than the receipt total",
    INSUFFICIENT_CASH: "not enough cash in the till",
    0x49: "operation impossible in an open receipt of this type",
    RECEIPT_OPEN: "a receipt is open, operation impossible",
    0x4B: "receipt buffer overflow",
    ELECTRONIC_OVER_TOTAL: "electronic payment exceeds the receipt total",
    SHIFT_OVER_24H: "shift has lasted over 24 hours",
    WRONG_PASSWORD: "wrong password",
    0x50: "previous command is still printing",
    RECEIPT_CLOSED: "receipt is closed, operation impossible",
    0x58: "waiting for the continue-printing command",
    NO_RECEIPT_PAPER: "no receipt paper",
    0x72: "command not supported in this submode",
    NOT_IN_THIS_MODE: "command not supported in this mode",
    ZERO_RECEIPT_TOTAL: "zero receipt total",
}


#: Refusals of a receipt's own data: printing the same receipt again can never succeed. Everything else
#: (paper, shift state, FN blocked or expired, device busy) is a device condition that passes.
RECEIPT_DATA_ERRORS = frozenset(
    {
        FN_BAD_PARAMETERS,
        FN_TLV_TOO_LARGE,
        BAD_PARAMETERS,
        0x35,
        0x36,
        PAYMENT_LESS_THAN_TOTAL,
        0x49,
        0x4B,
        ELECTRONIC_OVER_TOTAL,
        ZERO_RECEIPT_TOTAL,
    }
)


def describe(code: int) -> str:
    """Human-readable meaning of a device error code."""
    return MESSAGES.get(code, f"unknown device error 0x{code:02X}")
