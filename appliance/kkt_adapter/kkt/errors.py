"""Errors raised across the fiscal device boundary.

The split matters for fiscal safety: ``KktTimeout`` means *the outcome is unknown* (the device may have
printed) and the caller must reconcile with the FN before deciding anything; every other error means the
command was certainly not executed.
"""

from __future__ import annotations


class KktError(Exception):
    """Base class of every fiscal device error."""


class KktLinkError(KktError):
    """The port cannot be opened or the device does not answer ENQ at all: nothing was sent."""


class KktTimeout(KktError):
    """A command was sent and no answer came back: the device may or may not have executed it."""

    def __init__(self, message: str, command: int | None = None):
        super().__init__(message)
        self.command = command


class KktProtocolError(KktError):
    """Framing could not be recovered (bad LRC after every retry, malformed answer)."""


class KktDeviceError(KktError):
    """The device answered with a non-zero error code: the command was not executed."""

    def __init__(self, command: int, code: int, message: str, *, retryable: bool = True):
        super().__init__(f"KKT error 0x{code:02X} on command 0x{command:X}: {message}")
        self.command = command
        self.code = code
        self.description = message
        # False when the device refuses *this document's data* (retrying cannot help); True when the
        # device state is the problem (paper, shift, FN block) and the same receipt will print later.
        self.retryable = retryable


class KktInsufficientCash(KktDeviceError):
    """The device refused a cash out larger than the cash in its drawer: nothing was recorded."""
