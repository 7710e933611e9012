"""Exponential backoff with jitter for delivery retries ("equal jitter": half fixed, half random)."""

from __future__ import annotations

import random


def delay(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` failures: base * 2^(n-1), capped, jittered."""
    if attempts <= 0:
        return 0.0
    ceiling = min(cap, base * (2 ** min(attempts - 1, 30)))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
