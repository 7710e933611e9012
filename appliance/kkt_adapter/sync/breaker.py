"""pybreaker circuit breakers whose state lives in the buffer database.

The adapter process and the timer-driven ``kktctl sync`` process share one breaker per endpoint, and it
survives restarts: a process reads the state on every call. Opening and closing are journaled events,
written only by the process that changes the state (others merely notice it).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pybreaker

from kkt_adapter.buffer import deliveries
from kkt_adapter.buffer.db import database
from kkt_adapter.buffer.journal import add_event
from kkt_adapter.buffer.models import BreakerState
from kkt_adapter.config import Config
from kkt_adapter.sync.clients import PermanentError

STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_OPEN: 1, pybreaker.STATE_HALF_OPEN: 2}


class BufferBreakerStorage(pybreaker.CircuitBreakerStorage):
    """``CircuitBreakerStorage`` over the ``breaker_state`` table (one row per endpoint)."""

    def __init__(self, name: str):
        super().__init__(name)
        BreakerState.insert(name=name).on_conflict_ignore().execute()

    def _row(self) -> BreakerState:
        return BreakerState.get_by_id(self.name)

    def _update(self, **values) -> None:
        with database.atomic("IMMEDIATE"):
            BreakerState.update(**values).where(BreakerState.name == self.name).execute()

    @property
    def state(self) -> str:
        return self._row().state

    @state.setter
    def state(self, state: str) -> None:
        with database.atomic("IMMEDIATE"):
            previous = self._row().state
            BreakerState.update(state=state).where(BreakerState.name == self.name).execute()
            if previous != state:
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


def make_breaker(endpoint: str, cfg: Config) -> pybreaker.CircuitBreaker:
    """5 failures -> OPEN, 60 s -> HALF_OPEN, a success -> CLOSED (configurable). Permanent rejections
    are answers, not failures of the endpoint: they never count towards opening."""
    return pybreaker.CircuitBreaker(
        fail_max=cfg.sync.breaker_fail_max,
        reset_timeout=cfg.sync.breaker_reset_seconds,
        exclude=[PermanentError],
        state_storage=BufferBreakerStorage(endpoint),
        name=endpoint,
        # The call that trips the breaker raises its own error (a counted, backed-off failure) instead of
        # CircuitBreakerError (which the runner treats as "not attempted").
        throw_new_error_on_trip=False,
    )


def breaker_states() -> dict[str, str]:
    return {row.name: row.state for row in BreakerState.select()}
