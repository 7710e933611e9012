"""Fault injection registry: armed faults that fire on matching commands a given number of times.

Queued faults (consumed when they fire):
- ``no_answer``: the frame is ACKed but the command is NOT executed and never answered.
- ``lost_answer``: the command IS executed (a receipt printed) but its answer is dropped, not kept pending.
- ``corrupt``: the answer goes out once with a bad LRC; the host NAKs and gets the good copy.
- ``corrupt_request``: a good command frame is NAKed as if damaged on the line; the host re-sends it.
- ``slow``: the answer is delayed by ``seconds`` after execution.
- ``power_loss``: the open receipt is dropped and the device is dead for ``seconds``; with ``after_print``
  on FF45 the receipt is fiscalized and journaled first (on 50 / 51 the cash in / cash out is recorded).
- ``refuse``: the command is NOT executed and answered with device error ``code`` (e.g. 0x33 bad
  parameters): how a real KKT refuses data its firmware does not accept.
Switches (not queued): ``silent`` (unplugged: nothing is answered, not even ENQ) and ``paper_out``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

QUEUED = frozenset({"no_answer", "lost_answer", "corrupt", "corrupt_request", "slow", "power_loss", "refuse"})
SWITCHES = frozenset({"silent", "paper_out"})
NAMES = QUEUED | SWITCHES


@dataclass
class Fault:
    name: str
    count: int = 1  # times it fires; 0 = every time until cleared
    command: int | None = None  # fires only for this command code; None = any command
    seconds: float = 0.0  # slow: answer delay; power_loss: how long the device stays dead
    after_print: bool = False  # power_loss on FF45 / 50 / 51: execute and journal before the power dies
    code: int = 0  # refuse: the device error code to answer with

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["command"] = None if self.command is None else f"{self.command:02X}"
        return data


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.fired: dict[str, int] = {}  # statistics: how often each fault fired

    def arm(self, fault: Fault) -> None:
        if fault.name not in QUEUED:
            raise ValueError(f"unknown queued fault {fault.name!r}; known: {sorted(QUEUED)}")
        with self._lock:
            self._armed.append(fault)

    def take(self, name: str, command: int) -> Fault | None:
        """The first armed fault of ``name`` matching ``command``, consuming one firing; None if none."""
        with self._lock:
            for fault in self._armed:
                if fault.name == name and fault.command in (None, command):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            self._armed.remove(fault)
                    self.fired[name] = self.fired.get(name, 0) + 1
                    return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._armed]
