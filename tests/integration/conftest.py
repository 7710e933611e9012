"""Fixtures that run the Shtrih-M emulator as a real process on a pty and open the real driver on it.

``kkt_emulator`` yields an :class:`EmulatorProcess` (``.port``, ``.control``, ``.state_dir``, ``.restart()``);
``driver`` is an opened ShtrihDriver with short test timeouts (TEST_TIMEOUTS); ``emulator_factory`` starts
extra or customised emulators (``emulator_factory("b", sign_delay=0.2)``) and ``driver_factory`` opens more
drivers. ``standins_factory(pos_id, token)`` starts the OFD and Odoo stand-ins on loopback (Odoo accepting
that till's bearer token). Everything is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kkt_adapter.kkt.shtrih_driver import ShtrihDriver
from kkt_adapter.kkt.types import Timeouts
from tests.kit.devstack import EmulatorProcess
from tests.kit.standins.common import StandinProcess

#: Short timeouts so failure paths stay fast; the answer timeout still leaves room for a loaded CI box.
TEST_TIMEOUTS = Timeouts(byte=0.05, enq=0.1, ack=0.3, answer=0.5, attempts=3)


def fast_kkt(port: str) -> dict[str, object]:
    """The adapter's ``[kkt]`` settings for an emulator on ``port``: short link timeouts, quick retries."""
    return {
        "port": port,
        "answer_timeout": 0.6,
        "enq_timeout": 0.1,
        "ack_timeout": 0.2,
        "attempts": 3,
        "retry_interval_seconds": 0.5,
    }


@pytest.fixture
def emulator_factory(tmp_path: Path) -> Iterator[Callable[..., EmulatorProcess]]:
    started: list[EmulatorProcess] = []

    def start(name: str = "kkt", **kwargs: object) -> EmulatorProcess:
        emulator = EmulatorProcess(tmp_path / name, **kwargs).start()  # type: ignore[arg-type]
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def kkt_emulator(emulator_factory: Callable[..., EmulatorProcess]) -> EmulatorProcess:
    return emulator_factory()


@pytest.fixture
def driver_factory() -> Iterator[Callable[..., ShtrihDriver]]:
    """``driver_factory(emulator, timeouts=TEST_TIMEOUTS, open=True)``; every driver is closed afterwards."""
    made: list[ShtrihDriver] = []

    def make(
        emulator: EmulatorProcess, timeouts: Timeouts = TEST_TIMEOUTS, open: bool = True
    ) -> ShtrihDriver:
        drv = ShtrihDriver(emulator.port, timeouts=timeouts)
        made.append(drv)
        if open:
            drv.open()
        return drv

    yield make
    for drv in made:
        drv.close()


@pytest.fixture
def driver(kkt_emulator: EmulatorProcess, driver_factory: Callable[..., ShtrihDriver]) -> ShtrihDriver:
    return driver_factory(kkt_emulator)


@pytest.fixture
def standins_factory(tmp_path: Path) -> Iterator[Callable[[str, str], tuple[StandinProcess, StandinProcess]]]:
    started: list[StandinProcess] = []

    def start(pos_id: str, token: str) -> tuple[StandinProcess, StandinProcess]:
        ofd = StandinProcess.start("ofd", log_path=tmp_path / "ofd.log")
        started.append(ofd)
        odoo = StandinProcess.start(
            "odoo", args=["--token", f"{pos_id}={token}"], log_path=tmp_path / "odoo.log"
        )
        started.append(odoo)
        return ofd, odoo

    yield start
    for standin in started:
        standin.stop()
