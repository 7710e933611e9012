"""pybreaker's state storage in the buffer (``breaker_state``), shared by every process on the till.

Opening and closing are journaled events, written only by the process that changes the state (the others
merely notice it), in the same transaction as the change.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pybreaker

from kkt_adapter.buffer import deliveries
from kkt_adapter.buffer.connection import write_transaction
from kkt_adapter.buffer.events import add_event
from kkt_adapter.buffer.models import BreakerState

log = logging.getLogger(__name__)


class BufferBreakerStorage(pybreaker.CircuitBreakerStorage):
    """``CircuitBreakerStorage`` over the ``breaker_state`` table (one row per endpoint)."""

    def __init__(self, name: str):
        super().__init__(name)
        BreakerState.insert(name=name).on_conflict_ignore().execute()

    def _row(self) -> BreakerState:
        return BreakerState.get_by_id(self.name)

    def _update(self, **values) -> None:
        with write_transaction():
            BreakerState.update(**values).where(BreakerState.name == self.name).execute()

    @property
    def state(self) -> str:
        return self._row().state

    @state.setter
    def state(self, state: str) -> None:
        with write_transaction():
            previous = self._row().state
            BreakerState.update(state=state).where(BreakerState.name == self.name).execute()
            if previous != state:
                log.warning("circuit breaker %s: %s -> %s", self.name, previous, state)
                if state == pybreaker.STATE_OPEN:
                    add_event("circuit_opened", None, endpoint=self.name, previous=previous)
                    deliveries.add_counter("kkt_circuit_breaker_opens_total", f"endpoint={self.name}")
                elif state == pybreaker.STATE_CLOSED:
                    add_event("circuit_closed", None, endpoint=self.name, previous=previous)

    def increment_counter(self) -> None:
        self._update(fail_counter=BreakerState.fail_counter + 1)

    def reset_counter(self) -> None:
        self._update(fail_counter=0)

    def increment_success_counter(self) -> None:
        self._update(success_counter=BreakerState.success_counter + 1)

    def reset_success_counter(self) -> None:
        self._update(success_counter=0)

    @property
    def counter(self) -> int:
        return self._row().fail_counter

    @property
    def success_counter(self) -> int:
        return self._row().success_counter

    @property
    def opened_at(self) -> datetime | None:
        ts = self._row().opened_at
        return datetime.fromtimestamp(ts, UTC) if ts is not None else None

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._update(opened_at=value.timestamp())


def breaker_states() -> dict[str, str]:
    return {row.name: row.state for row in BreakerState.select()}
