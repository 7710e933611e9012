"""ShtrihDriver against the emulator process over a real pty: every command, every fault, persistence.

Nothing is mocked: the driver opens the pty path with pyserial like /dev/ttyUSB0 and the emulator journal
is the evidence of what was fiscalized (a receipt must never be printed twice).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import serial

from kkt_adapter.kkt.errors import KktDeviceError, KktLinkError, KktTimeout
from kkt_adapter.kkt.shtrih_driver import ShtrihDriver
from kkt_adapter.kkt.types import (
    Correction,
    DocumentType,
    FiscalItem,
    FiscalReceipt,
    SettlementKind,
    Timeouts,
)
from kkt_adapter.shtrih import codec
from kkt_adapter.shtrih import commands as cmd
from kkt_adapter.shtrih import errors as E
from kkt_adapter.shtrih.frame import ACK, ENQ, NAK, STX, encode_frame

HOUR = 3600
DAY = 24 * HOUR

FRAME_ITEM = FiscalItem(
    name="Оправа Ray-Ban RB5154", price=1_250_000, quantity=Decimal(1), amount=1_250_000, vat=6
)
LENS_ITEM = FiscalItem(
    name="Линза очковая 1.6 AR", price=350_000, quantity=Decimal(2), amount=700_000, vat=6, measure_unit=0
)
SUNGLASSES = FiscalItem(
    name="Солнцезащитные очки", price=499_900, quantity=Decimal(1), amount=499_900, vat=11
)


def sale(**overrides: object) -> FiscalReceipt:
    values: dict[str, object] = {
        "kind": SettlementKind.SALE,
        "items": (FRAME_ITEM, LENS_ITEM),
        "cash": 2_000_000,
        "buyer_contact": "+79991234567",
        "text": "R-000123",
    }
    values.update(overrides)
    return FiscalReceipt(**values)  # type: ignore[arg-type]


def receipts(journal: list[dict]) -> list[dict]:
    return [d for d in journal if d["type"] in (3, 31)]


def tlv_values(entries: list[dict]) -> dict[int, object]:
    return {e["tag"]: e["value"] for e in entries}


# ---- plain commands ------------------------------------------------------------------------------


def test_status_and_device_info(driver: ShtrihDriver) -> None:
    status = driver.short_status()
    assert status.mode == 4 and not status.shift_open and not status.paper_out
    info = driver.device_info()
    assert info.protocol_version == 1 and "ШТРИХ" in info.name
    fn = driver.fn_status()
    assert len(fn.fn_number) == 16 and fn.last_fd == 0 and not fn.shift_open
    assert driver.fn_expiry().expires_on > date.today()
    assert driver.ofd_status().queue_size == 0 and driver.ofd_status().first_unsent_at is None
    assert driver.unconfirmed_count() == 0


def test_shift_open_x_and_z_reports(driver: ShtrihDriver, kkt_emulator) -> None:
    opened = driver.open_shift()
    assert (opened.fd_number, opened.shift_number) == (1, 1)
    assert opened.fiscal_sign and opened.issued_at is not None
    assert driver.short_status().mode == 2 and driver.fn_status().shift_open
    with pytest.raises(KktDeviceError):
        driver.open_shift()  # already open: refused, nothing signed
    driver.x_report()
    closed = driver.z_report()
    assert (closed.fd_number, closed.shift_number) == (2, 1)
    assert driver.short_status().mode == 4
    assert driver.open_shift().shift_number == 2
    journal = kkt_emulator.control.journal()
    assert [(d["fd"], d["type"], d["shift"]) for d in journal] == [(1, 2, 1), (2, 5, 1), (3, 2, 2)]
    found = driver.find_document(2)
    assert found.document_type == DocumentType.SHIFT_CLOSE and found.fiscal_sign == closed.fiscal_sign


def test_sale_receipt_with_tlvs_in_journal(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    result = driver.fiscalize(sale())
    assert result.fd_number == 2 and result.change == 2_000_000 - 1_950_000
    (doc,) = receipts(kkt_emulator.control.journal())
    assert doc["fd"] == 2 and doc["fp"] == result.fiscal_sign and doc["type"] == 3
    assert doc["settlement"] == 1 and doc["total"] == 1_950_000 and doc["text"] == "R-000123"
    assert doc["payments"] == {
        "cash": 2_000_000,
        "electronic": 0,
        "prepayment": 0,
        "other": 0,
        "slots": [2_000_000] + [0] * 15,
    }
    assert tlv_values(doc["tlvs"]) == {1008: "+79991234567"}
    assert [(i["name"], i["qty"], i["price"], i["amount"], i["vat"]) for i in doc["items"]] == [
        ("Оправа Ray-Ban RB5154", "1", 1_250_000, 1_250_000, 6),
        ("Линза очковая 1.6 AR", "2", 350_000, 700_000, 6),
    ]
    assert all(tlv_values(i["tlvs"]) == {2108: 0} for i in doc["items"])
    found = driver.find_document(2)
    assert found.document_type == DocumentType.RECEIPT and found.settlement == 1 and found.total == 1_950_000
    assert found.fiscal_sign == result.fiscal_sign and not found.ofd_confirmed
    assert driver.fn_status().last_fd == 2 and driver.short_status().mode == 2


def test_vat_22_and_electronic_payment(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    result = driver.fiscalize(sale(items=(SUNGLASSES,), cash=0, electronic=499_900, buyer_contact=None))
    assert result.change == 0
    (doc,) = receipts(kkt_emulator.control.journal())
    assert doc["items"][0]["vat"] == 11 and doc["items"][0]["vat_sum"] == round(499_900 * 22 / 122)
    assert doc["payments"]["electronic"] == 499_900 and doc["tlvs"] == []


def test_sale_return_receipt(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    driver.fiscalize(sale())
    driver.fiscalize(sale(kind=SettlementKind.SALE_RETURN, items=(FRAME_ITEM,), cash=1_250_000))
    docs = receipts(kkt_emulator.control.journal())
    assert [(d["settlement"], d["receipt_type"], d["total"]) for d in docs] == [
        (1, 0, 1_950_000),
        (2, 2, 1_250_000),
    ]
    assert driver.find_document(3).settlement == SettlementKind.SALE_RETURN


def test_correction_receipt(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    correction = Correction(correction_type=0, basis_date=date(2026, 3, 14), basis_number="")
    result = driver.fiscalize(sale(correction=correction, buyer_contact=None, items=(FRAME_ITEM,)))
    (doc,) = receipts(kkt_emulator.control.journal())
    assert doc["type"] == 31
    tags = tlv_values(doc["tlvs"])
    assert tags[1173] == 0
    basis = tlv_values(tags[1174])  # type: ignore[arg-type]
    assert basis[1178].startswith("2026-03-14") and basis[1179] == ""
    found = driver.find_document(result.fd_number)
    assert found.document_type == DocumentType.CORRECTION_RECEIPT and found.total == 1_250_000


def test_device_error_mid_receipt_cancels_it(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    bad = FiscalItem(
        name="Кейс", price=10_000, quantity=Decimal(1), amount=20_000, vat=6
    )  # sum != price x qty
    with pytest.raises(KktDeviceError) as err:
        driver.fiscalize(sale(items=(bad,)))
    assert err.value.code == E.BAD_PARAMETERS and err.value.command == 0xFF46
    assert driver.short_status().mode == 2  # the half-built receipt was cancelled
    with pytest.raises(KktDeviceError) as err:
        driver.fiscalize(sale(cash=100))  # payment below the total: FF45 refused, receipt cancelled
    assert err.value.code == E.PAYMENT_LESS_THAN_TOTAL
    assert driver.short_status().mode == 2 and receipts(kkt_emulator.control.journal()) == []
    with pytest.raises(KktDeviceError) as err:
        driver.cancel_receipt()
    assert err.value.code == E.RECEIPT_CLOSED


def test_unknown_document_and_unencodable_receipt(driver: ShtrihDriver) -> None:
    with pytest.raises(KktDeviceError) as err:
        driver.find_document(999)
    assert err.value.code == E.FN_NO_DATA
    with pytest.raises(ValueError):
        driver.fiscalize(sale(items=(FiscalItem("x", 1, Decimal("0.0000001"), 0, 6),)))
    assert driver.short_status().mode == 4  # nothing was sent, nothing opened


def test_ofd_status_tracks_the_queue(driver: ShtrihDriver) -> None:
    driver.open_shift()
    driver.fiscalize(sale())
    status = driver.ofd_status()
    assert status.queue_size == 2 and status.first_unsent_fd == 1 and status.first_unsent_at is not None
    assert driver.unconfirmed_count() == 2


def test_ofd_relay_read_and_ack(driver: ShtrihDriver) -> None:
    driver.open_shift()
    many = tuple(FiscalItem(f"Линза {i}", 100_000, Decimal(1), 100_000, 6) for i in range(8))
    driver.fiscalize(sale(items=many, cash=800_000))
    assert driver.list_unconfirmed() == [1, 2]
    message = driver.read_unconfirmed_document(2)
    assert len(message) > cmd.OFD_READ_CHUNK  # read in several chunks
    ((doc_tag, body),) = codec.decode_tlvs(message)
    fields = dict(codec.decode_tlvs(body))
    assert doc_tag == 3 and codec.decode_uint(fields[1040]) == 2
    with pytest.raises(KktDeviceError) as err:
        driver.apply_ofd_ack(2, codec.encode_tlv(1040, codec.encode_uint(1, 4)))  # ack naming another FD
    assert err.value.code == E.FN_OFD_MESSAGE_REJECTED
    driver.apply_ofd_ack(2, codec.encode_tlv(1040, codec.encode_uint(2, 4)))
    driver.apply_ofd_ack(2, b"again")  # idempotent
    assert driver.list_unconfirmed() == [1] and driver.find_document(2).ofd_confirmed
    with pytest.raises(KktDeviceError):
        driver.read_unconfirmed_document(99)


# ---- link faults ---------------------------------------------------------------------------------


def test_damaged_request_is_nakked_and_resent(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("corrupt_request", command="FF45", count=2)
    driver.fiscalize(sale())
    assert len(receipts(kkt_emulator.control.journal())) == 1
    stats = kkt_emulator.control.stats()
    assert stats["naks_sent"] == 2 and stats["commands"]["FF45"] == 1


def test_raw_frame_with_bad_lrc_gets_nak(kkt_emulator) -> None:
    with serial.Serial(kkt_emulator.port, 115200, timeout=0.5) as port:
        frame = bytearray(encode_frame(cmd.build_request(cmd.SHORT_STATUS)))
        frame[-1] ^= 0x55
        port.write(bytes(frame))
        assert port.read(1) == bytes([NAK])


def test_pending_answer_is_resent_on_enq_until_acked(kkt_emulator) -> None:
    with serial.Serial(kkt_emulator.port, 115200, timeout=0.5) as port:
        port.write(encode_frame(cmd.build_request(cmd.SHORT_STATUS)))
        assert port.read(1) == bytes([ACK])
        answer = port.read(64)
        assert answer[0] == STX
        port.write(bytes([ENQ]))  # host missed the answer: ask again, never resend the command
        assert port.read(1) == bytes([ACK]) and port.read(64) == answer
        port.write(bytes([NAK]))  # a damaged copy: the device sends it again
        assert port.read(64) == answer
        port.write(bytes([ACK]))
        port.write(bytes([ENQ]))
        assert port.read(1) == bytes([NAK])  # idle: nothing pending any more
    assert kkt_emulator.control.stats()["commands"]["10"] == 1


def test_damaged_answer_is_nakked_and_resent(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("corrupt", command="FF45")
    result = driver.fiscalize(sale())
    (doc,) = receipts(kkt_emulator.control.journal())
    assert doc["fd"] == result.fd_number
    stats = kkt_emulator.control.stats()
    assert stats["answers_resent"] >= 1 and stats["commands"]["FF45"] == 1


def test_slow_answer_is_collected_with_enq_not_resent(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("slow", command="FF45", seconds=0.8)  # answer timeout is 0.5 s
    result = driver.fiscalize(sale())
    docs = receipts(kkt_emulator.control.journal())
    assert [d["fd"] for d in docs] == [result.fd_number]  # printed once
    stats = kkt_emulator.control.stats()
    assert stats["commands"]["FF45"] == 1
    assert stats["enq"] > 1 + sum(stats["commands"].values())  # a recovery ENQ collected the answer


def test_lost_answer_on_close_raises_timeout_and_prints_once(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    last_fd = driver.fn_status().last_fd
    kkt_emulator.control.fault("lost_answer", command="FF45")
    with pytest.raises(KktTimeout) as err:
        driver.fiscalize(sale())
    assert err.value.command == 0xFF45
    docs = receipts(kkt_emulator.control.journal())
    assert len(docs) == 1 and kkt_emulator.control.stats()["commands"]["FF45"] == 1
    assert driver.fn_status().last_fd == last_fd + 1 == docs[0]["fd"]  # what the service reconciles with
    assert driver.find_document(last_fd + 1).total == 1_950_000


def test_no_answer_on_close_raises_timeout_and_fiscalizes_nothing(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("no_answer", command="FF45")
    with pytest.raises(KktTimeout):
        driver.fiscalize(sale())
    assert receipts(kkt_emulator.control.journal()) == []
    assert driver.fn_status().last_fd == 1
    assert driver.short_status().mode & 0x0F == 8  # the receipt is still open
    driver.cancel_receipt()
    assert driver.short_status().mode == 2


def test_no_answer_on_read_only_command_is_resent(driver: ShtrihDriver, kkt_emulator) -> None:
    kkt_emulator.control.fault("no_answer", command="10")
    assert driver.short_status().mode == 4
    assert kkt_emulator.control.stats()["commands"]["10"] == 2


def test_silent_device_raises_link_error_quickly(kkt_emulator, driver_factory) -> None:
    drv = driver_factory(kkt_emulator)
    kkt_emulator.control.silent(True)
    started = time.monotonic()
    with pytest.raises(KktLinkError):
        drv.short_status()
    drv.close()
    with pytest.raises(KktLinkError):
        driver_factory(kkt_emulator)  # opening performs the ENQ handshake
    assert time.monotonic() - started < 2.0
    kkt_emulator.control.silent(False)
    assert drv.short_status().mode == 4  # reopens on demand


def test_port_is_exclusive(driver: ShtrihDriver, kkt_emulator, driver_factory) -> None:
    with pytest.raises(KktLinkError):
        driver_factory(kkt_emulator)  # a second opener must not interleave frames with the first
    assert driver.short_status().mode == 4


def test_link_failure_after_send_is_a_timeout(driver: ShtrihDriver, kkt_emulator, driver_factory) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("slow", command="FF45", seconds=3.0)  # executed, then the answer waits
    outcome: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(outcome, driver.fiscalize, sale()))
    worker.start()
    time.sleep(0.8)
    assert kkt_emulator.proc is not None
    kkt_emulator.proc.kill()  # the device (and its pty) vanish while the host waits for the FF45 answer
    worker.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], KktTimeout), outcome  # never "nothing was sent"
    driver.close()
    kkt_emulator.restart()
    assert len(receipts(kkt_emulator.control.journal())) == 1  # it was printed: the caller must reconcile
    assert driver_factory(kkt_emulator).fn_status().last_fd == 2


def _capture(outcome: list[BaseException], func, *args) -> None:
    try:
        func(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread for assertions
        outcome.append(exc)


def test_port_that_cannot_be_opened(tmp_path) -> None:
    drv = ShtrihDriver(str(tmp_path / "no-such-tty"))
    with pytest.raises(KktLinkError):
        drv.open()


def test_stale_answer_at_open_is_discarded(kkt_emulator, driver_factory) -> None:
    # A previous process sent FC and died before ACKing the answer: the device keeps it pending.
    with serial.Serial(kkt_emulator.port, 115200, timeout=0.5) as port:
        port.write(encode_frame(cmd.build_request(cmd.DEVICE_TYPE)))
        assert port.read(1) == bytes([ACK])
        assert port.read(1) == bytes([STX])
    drv = driver_factory(kkt_emulator)
    assert drv.stale_answers == 1
    assert drv.short_status().mode == 4  # its own answer, not the stale FC one


def test_paper_out(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.paper(False)
    assert driver.short_status().paper_out
    with pytest.raises(KktDeviceError) as err:
        driver.fiscalize(sale())
    assert err.value.code == E.NO_RECEIPT_PAPER and err.value.command == 0x8D
    kkt_emulator.control.clear()
    kkt_emulator.control.fault("paper_out")
    with pytest.raises(KktDeviceError):
        driver.x_report()
    kkt_emulator.control.paper(True)
    driver.fiscalize(sale())
    assert len(receipts(kkt_emulator.control.journal())) == 1


def test_power_loss_mid_receipt_drops_it(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("power_loss", command="FF46", seconds=1.0)
    with pytest.raises(KktTimeout):
        driver.fiscalize(sale())
    with pytest.raises(KktLinkError):
        driver.short_status()  # still without power
    time.sleep(1.0)
    assert driver.short_status().mode == 2  # back, shift open, no open document
    assert driver.fn_status().open_document == 0
    assert receipts(kkt_emulator.control.journal()) == []


def test_power_loss_after_print_keeps_the_document(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.fault("power_loss", command="FF45", seconds=0.5, after_print=True)
    with pytest.raises(KktTimeout):
        driver.fiscalize(sale())
    time.sleep(0.5)
    assert len(receipts(kkt_emulator.control.journal())) == 1
    assert driver.fn_status().last_fd == 2 and driver.short_status().mode == 2


# ---- FN rules ------------------------------------------------------------------------------------


def test_shift_over_24_hours(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    kkt_emulator.control.advance(25 * HOUR)
    status = driver.short_status()
    assert status.mode == 3 and status.shift_expired and status.shift_open
    with pytest.raises(KktDeviceError) as err:
        driver.fiscalize(sale())
    assert err.value.code == E.SHIFT_OVER_24H
    assert driver.z_report().shift_number == 1
    driver.open_shift()
    driver.fiscalize(sale())


def test_thirty_day_ofd_block(driver: ShtrihDriver, kkt_emulator) -> None:
    driver.open_shift()
    driver.fiscalize(sale())
    driver.z_report()
    kkt_emulator.control.advance(31 * DAY)
    assert driver.fn_status().warnings & 8
    with pytest.raises(KktDeviceError) as err:
        driver.open_shift()
    assert err.value.code == E.FN_OFD_WAIT_EXHAUSTED
    for fd in driver.list_unconfirmed():  # the OFD relay catches up
        driver.apply_ofd_ack(fd, codec.encode_tlv(1040, codec.encode_uint(fd, 4)))
    assert driver.unconfirmed_count() == 0
    driver.open_shift()
    driver.fiscalize(sale())


def test_fn_expiry(driver: ShtrihDriver, kkt_emulator) -> None:
    expires = driver.fn_expiry().expires_on
    days_left = (expires - date.today()).days
    kkt_emulator.control.advance((days_left - 10) * DAY)
    assert driver.fn_status().warnings & 2 and not driver.fn_status().warnings & 1
    kkt_emulator.control.advance(12 * DAY)
    with pytest.raises(KktDeviceError) as err:
        driver.open_shift()
    assert err.value.code == E.FN_EXPIRED
    kkt_emulator.control.set_fn_expiry(date.today() + timedelta(days=5000))
    driver.open_shift()


def test_state_survives_restart(driver: ShtrihDriver, kkt_emulator, driver_factory) -> None:
    driver.open_shift()
    first = driver.fiscalize(sale())
    fn_number = driver.fn_status().fn_number
    driver.close()
    kkt_emulator.restart()
    drv = driver_factory(kkt_emulator)
    status = drv.fn_status()
    assert (status.fn_number, status.last_fd, status.shift_open) == (fn_number, first.fd_number, True)
    second = drv.fiscalize(sale())
    assert second.fd_number == first.fd_number + 1
    assert [d["fd"] for d in kkt_emulator.control.journal()] == [1, 2, 3]
    assert drv.find_document(first.fd_number).fiscal_sign == first.fiscal_sign


def test_sign_delay_is_counted_as_busy_time(emulator_factory, driver_factory) -> None:
    emulator = emulator_factory("slowprinter", sign_delay=0.2)
    drv = driver_factory(emulator)
    drv.open_shift()
    before = emulator.control.stats()["busy_seconds"]
    drv.fiscalize(sale())
    assert emulator.control.stats()["busy_seconds"] - before >= 0.2
    (doc,) = receipts(emulator.control.journal())
    assert doc["service_seconds"] >= 0.2


def test_printing_refuses_with_0x50_and_the_driver_sends_again_when_done(
    emulator_factory, driver_factory
) -> None:
    """The answer comes once the FN has the document; the printer works on; the next receipt waits for it."""
    emulator = emulator_factory("printing", print_delay=0.4)
    drv = driver_factory(emulator)
    drv.open_shift()
    assert drv.short_status().submode == 5  # the shift report is still printing, the status is answered
    assert drv.fn_status().shift_open  # read-only queries too
    before = emulator.control.stats()["commands"]
    result = drv.fiscalize(sale())
    after = emulator.control.stats()["commands"]
    assert after.get("8D", 0) - before.get("8D", 0) >= 2  # refused with 0x50 at least once, then sent again
    assert after.get("10", 0) - before.get("10", 0) >= 1  # the wait polled the short status
    (doc,) = receipts(emulator.control.journal())
    assert doc["fd"] == result.fd_number
    assert drv.short_status().submode == 5  # now the receipt prints


def test_printer_busy_past_the_wait_is_a_retryable_refusal(emulator_factory, driver_factory) -> None:
    emulator = emulator_factory("jammed", print_delay=2.0)
    drv = driver_factory(
        emulator, timeouts=Timeouts(enq=0.1, ack=0.3, answer=0.5, attempts=3, print_wait=0.2)
    )
    drv.open_shift()
    with pytest.raises(KktDeviceError) as refused:
        drv.fiscalize(sale())
    assert (refused.value.code, refused.value.retryable) == (E.PREVIOUS_STILL_PRINTING, True)
    assert receipts(emulator.control.journal()) == []  # nothing was opened, nothing fiscalized
    assert drv.short_status().mode != 8  # no receipt left open


def test_per_command_answer_timeout(emulator_factory, driver_factory) -> None:
    emulator = emulator_factory("printer", sign_delay=0.7)
    drv = driver_factory(
        emulator, timeouts=Timeouts(enq=0.1, ack=0.3, answer=0.3, attempts=2, extra={"E0": 2.0})
    )
    drv.open_shift()  # would need ENQ recovery without the override
    stats = emulator.control.stats()
    assert stats["enq"] == 1 + sum(stats["commands"].values())  # open + one per command: no recovery ENQ


def test_cli_ctl(kkt_emulator) -> None:
    def ctl(*args: str) -> str:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "kkt_emulator.cli",
                "ctl",
                "--state-dir",
                str(kkt_emulator.state_dir),
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    armed = json.loads(ctl("fault", "no_answer", "--command", "FF45", "--count", "2"))
    assert armed == [
        {"name": "no_answer", "count": 2, "command": "FF45", "seconds": 0.0, "after_print": False, "code": 0}
    ]
    assert json.loads(ctl("clear")) is True and kkt_emulator.control.faults() == []
    assert json.loads(ctl("paper", "off")) is False
    assert "commands" in json.loads(ctl("stats"))
    assert json.loads(ctl("state"))["paper"] is False
    assert ctl("journal") == ""
    assert json.loads(ctl("advance", "--seconds", "60"))
