"""pybreaker circuit breakers, one per delivery endpoint, whose state lives in the buffer database.

The adapter process and the timer-driven ``kktctl sync`` process share one breaker per endpoint, and it
survives restarts: a process reads the state on every call (``buffer.breaker_store``).
"""

from __future__ import annotations

import pybreaker

from kkt_adapter.buffer.breaker_store import BufferBreakerStorage, breaker_states
from kkt_adapter.config import Config
from kkt_adapter.sync.clients import PermanentError

STATE_VALUES = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_OPEN: 1, pybreaker.STATE_HALF_OPEN: 2}


def make_breaker(endpoint: str, cfg: Config, storage: BufferBreakerStorage) -> pybreaker.CircuitBreaker:
    """5 failures -> OPEN, 60 s -> HALF_OPEN, a success -> CLOSED (configurable). Permanent rejections
    are answers, not failures of the endpoint: they never count towards opening."""
    return pybreaker.CircuitBreaker(
        fail_max=cfg.sync.breaker_fail_max,
        reset_timeout=cfg.sync.breaker_reset_seconds,
        exclude=[PermanentError],
        state_storage=storage,
        name=endpoint,
        # The call that trips the breaker raises its own error (a counted, backed-off failure) instead of
        # CircuitBreakerError (which the runner treats as "not attempted").
        throw_new_error_on_trip=False,
    )


__all__ = ["STATE_VALUES", "BufferBreakerStorage", "breaker_states", "make_breaker"]
