"""``GET /v1/kkt/buffer/status`` for the POS indicator: the KKT, FN and shift fields come from what the
adapter already knows (the KKT's last answers, the last FN reading, the journal), never from the KKT."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest

from kkt_adapter.buffer import journal
from kkt_adapter.fiscal.fn_watch import FnBacklog
from kkt_adapter.status import till_view
from kkt_adapter.web import create_app

DAY = 86400.0


@pytest.fixture
def app(make_cfg, tmp_path):
    # No KKT behind the app: the status must be answered without one.
    cfg = make_cfg(kkt={"port": str(tmp_path / "no-such-tty"), "attempts": 1, "enq_timeout": 0.05})
    application = create_app(cfg, start_background=False)
    yield application
    application.extensions["kkt"].device.close()


def backlog(unconfirmed: int, age_days: float, days_to_expiry: int) -> FnBacklog:
    oldest = datetime(2026, 12, 1, 9) if unconfirmed else None
    return FnBacklog(
        unconfirmed=unconfirmed,
        oldest_unconfirmed_at=oldest,
        oldest_age_seconds=age_days * DAY if unconfirmed else 0.0,
        days_to_block=30 - age_days if unconfirmed else None,
        expires_on=date(2027, 12, 1),
        days_to_expiry=days_to_expiry,
        warning_days=None,
        fn_number="9999000000000042",
    )


def test_before_the_kkt_and_the_fn_were_read_the_fields_say_unknown(app):
    status = app.test_client().get("/v1/kkt/buffer/status").get_json()
    assert {key: status[key] for key in status if key.startswith(("kkt_", "fn_", "shift_"))} == {
        "kkt_status": "unknown",
        "fn_days_left": None,
        "fn_unconfirmed_days": None,
        "shift_open": None,
        "shift_opened_at": None,
        "shift_age_seconds": None,
    }
    assert app.extensions["kkt"].service.health.snapshot().checked_at == 0.0  # the KKT was not asked


def test_the_fields_come_from_the_cached_kkt_state_fn_reading_and_journal(app):
    runtime = app.extensions["kkt"]
    runtime.service.health.set("paper_out", "no paper in the KKT")
    runtime.service.health.note_shift(True)
    runtime.fn_watch.update(backlog(unconfirmed=4, age_days=2.7, days_to_expiry=361), "test-till")
    journal.record_shift_opened("9999000000000042", 3, 17)
    status = app.test_client().get("/v1/kkt/buffer/status").get_json()
    assert status["kkt_status"] == "paper_out"  # the health endpoint's word for it
    assert (status["fn_days_left"], status["fn_unconfirmed_days"]) == (361, 2)
    assert status["shift_open"] is True
    opened = datetime.fromisoformat(status["shift_opened_at"])
    assert opened.tzinfo is not None and abs(opened.timestamp() - time.time()) < 5
    assert 0 <= status["shift_age_seconds"] < 5


def test_the_shift_age_counts_from_the_journaled_opening_while_the_kkt_says_open(app):
    runtime = app.extensions["kkt"]
    journal.record_shift_opened("9999000000000042", 3, 17)
    snap = runtime.status.snapshot()
    opened = snap.shift.opened_at
    assert till_view(snap, now=opened + 23.5 * 3600)["shift_open"] is None  # the KKT not asked yet
    runtime.service.health.note_shift(True)
    view = till_view(runtime.status.snapshot(), now=opened + 23.5 * 3600)
    assert (view["shift_open"], view["shift_age_seconds"]) == (True, 84600.0)
    runtime.service.health.note_shift(False)  # closed behind the journal's back (the KKT's keyboard)
    view = till_view(runtime.status.snapshot(), now=opened + 3600)
    assert (view["shift_open"], view["shift_opened_at"], view["shift_age_seconds"]) == (False, None, None)


def test_nothing_unconfirmed_is_null_days_and_the_state_survives_link_failures(app):
    runtime = app.extensions["kkt"]
    runtime.fn_watch.update(backlog(unconfirmed=0, age_days=0, days_to_expiry=12), "test-till")
    runtime.service.health.note_shift(True)
    runtime.service.health.set("unreachable", "no answer to ENQ")
    view = till_view(runtime.status.snapshot())
    assert (view["fn_days_left"], view["fn_unconfirmed_days"]) == (12, None)
    assert (view["kkt_status"], view["shift_open"]) == ("unreachable", True)
