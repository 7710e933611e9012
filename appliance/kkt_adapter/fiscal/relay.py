"""``OfdRelay``: the device side of phase 2 — FN documents into the buffer, OFD acks back to the FN.

Only the adapter process talks to the KKT, so the relay runs here (background thread) and the sync runner
delivers from the buffer. The session lock is taken per document: a cashier's receipt never waits behind
a long backlog. ``fn_backlog`` reads what the 30-day block watch needs.
"""

from __future__ import annotations

import logging

from kkt_adapter.buffer import deliveries
from kkt_adapter.config import FnWatchConfig
from kkt_adapter.fiscal import fn_watch
from kkt_adapter.fiscal.session import DeviceSession
from kkt_adapter.kkt.errors import KktDeviceError

log = logging.getLogger(__name__)


class OfdRelay:
    def __init__(self, session: DeviceSession, fn_watch_cfg: FnWatchConfig):
        self.session = session
        self.fn_watch_cfg = fn_watch_cfg

    def relay(self, max_documents: int = 50) -> dict[str, int]:
        """Capture FN documents not yet stored for the OFD, and hand delivered OFD acks back to the FN."""
        session = self.session
        session.skip_if_unreachable()
        with session.lock, session.noting_errors():
            fn = session.ensure_open().fn_status()
            waiting = session.device.list_unconfirmed()
        known = deliveries.known_ofd_fds(fn.fn_number)
        captured = applied = 0
        for fd in [f for f in waiting if f not in known][:max_documents]:
            with session.lock, session.noting_errors():
                doc_type = int(session.device.find_document(fd).document_type)
                payload = session.device.read_unconfirmed_document(fd)
            captured += deliveries.capture_fn_document(fn.fn_number, fd, doc_type, payload)
        for row in deliveries.acks_to_apply(max_documents):
            if row.fn_number == fn.fn_number:
                with session.lock, session.noting_errors():
                    try:
                        session.device.apply_ofd_ack(row.fd, bytes(row.ack))
                    except KktDeviceError as exc:
                        log.warning("FN refused the OFD acknowledgment of FD %s: %s", row.fd, exc)
                        continue
                applied += 1
            deliveries.ack_applied(row.id)  # an FN replaced since has nothing left to confirm
        return {"captured": captured, "acks_applied": applied, "unconfirmed": len(waiting) - applied}

    def fn_backlog(self) -> fn_watch.FnBacklog:
        """Read the OFD exchange status, the FN clock and expiry; assess the 30-day block."""
        session = self.session
        session.skip_if_unreachable()
        with session.lock, session.noting_errors():
            device = session.ensure_open()
            ofd = device.ofd_status()
            fn = device.fn_status()
            expiry = device.fn_expiry()
        return fn_watch.assess(
            self.fn_watch_cfg,
            ofd.queue_size,
            ofd.first_unsent_at,
            fn.issued_at,
            expiry.expires_on,
            fn.fn_number,
        )
