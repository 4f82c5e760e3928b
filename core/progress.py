"""Progress arithmetic: a rate limiter and weighted steps.

Pure: stdlib only. The base task uses these so that a worker loop may report progress
on every iteration while QGIS sees at most ``max_hz`` updates a second.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

Clock = Callable[[], float]


class Throttle:
    """Let an action through at most once per ``interval_s``."""

    def __init__(self, interval_s: float, clock: Clock = time.monotonic) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s {interval_s} is negative")
        self.interval_s = interval_s
        self._clock = clock
        self._last = float("-inf")

    def ready(self) -> bool:
        """True when the interval has passed since the last time this returned True."""
        now = self._clock()
        if now - self._last < self.interval_s:
            return False
        self._last = now
        return True


def weighted_fraction(fractions: Sequence[float], weights: Sequence[float]) -> float:
    """One 0..1 figure for steps done to ``fractions``, each counting as much as its weight.

    >>> weighted_fraction([1.0, 0.5], [1, 3])
    0.625
    """
    if len(fractions) != len(weights):
        raise ValueError(f"{len(fractions)} step fractions for {len(weights)} weights")
    if any(w < 0 for w in weights):
        raise ValueError(f"step weights {list(weights)} include a negative weight")
    total = float(sum(weights))
    if total == 0:
        return sum(map(clamp_fraction, fractions)) / len(fractions) if fractions else 0.0
    return sum(w * clamp_fraction(f) for f, w in zip(fractions, weights)) / total


def clamp_fraction(value: float) -> float:
    """Clamp a progress fraction to 0..1 (NaN counts as 0)."""
    if not value == value:  # NaN
        return 0.0
    return min(1.0, max(0.0, float(value)))
