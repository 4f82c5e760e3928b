"""Progress arithmetic: a rate limiter, weighted steps, and the meter behind the progress text.

Pure: stdlib only. ``Throttle`` is what lets a worker loop report on every iteration while
QGIS hears at most 20 updates a second (``control.Gate``) and a terminal a redraw every 0.1 s;
a chain weighs its steps' fractions; the meter gives people counts, a rate, the time left and
the time elapsed.
"""
from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Optional, Sequence, Tuple

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


# -- what people read: counts, rate, time left, time elapsed --------------------------

# Engines report counts in their status text, in their own units ("120 of 1024 tiles",
# "window 3 of 40", "500 features read", "12.3 MB"); the meter reads the count back from it.
_DONE_OF_TOTAL_UNIT = re.compile(r"^\s*([\d.,]+)\s+of\s+([\d.,]+)\s+([^\W\d]+)")
_UNIT_DONE_OF_TOTAL = re.compile(r"^\s*([^\W\d]+)\s+([\d.,]+)\s+of\s+([\d.,]+)")
_DONE_UNIT = re.compile(r"^\s*([\d.,]+)\s*([^\W\d]+)")

RATE_WINDOW_S = 10.0  # the rate is measured over the last seconds only: it follows a change of pace
MEANINGFUL_AFTER_S = 1.5  # a rate or a time left from less than this is noise


@dataclass(frozen=True)
class Count:
    """How much is done, in the engine's own unit (total unknown for a stream)."""

    done: float
    total: Optional[float]
    unit: str


def parse_count(status: str) -> Optional[Count]:
    """The count a status text states, or None.

    >>> parse_count("120 of 1,024 tiles")
    Count(done=120.0, total=1024.0, unit='tiles')
    >>> parse_count("window 3 of 40")
    Count(done=3.0, total=40.0, unit='windows')
    """
    match = _DONE_OF_TOTAL_UNIT.match(status)
    if match:
        return _count(match.group(1), match.group(2), match.group(3))
    match = _UNIT_DONE_OF_TOTAL.match(status)
    if match:
        unit = match.group(1)
        return _count(match.group(2), match.group(3), unit if unit.endswith("s") else unit + "s")
    match = _DONE_UNIT.match(status)
    if match:
        return _count(match.group(1), None, match.group(2))
    return None


def _count(done: str, total: Optional[str], unit: str) -> Optional[Count]:
    try:
        return Count(float(done.replace(",", "")), float(total.replace(",", "")) if total else None, unit)
    except ValueError:
        return None


@dataclass(frozen=True)
class Reading:
    """What a progress line says at one moment; ``None`` where nothing meaningful is known yet."""

    elapsed_s: float
    count: Optional[Count]
    rate: Optional[float]  # count units a second
    left_s: Optional[float]


class ProgressMeter:
    """Turns (fraction, status) samples into a rate and a time left. Thread-safe: a worker
    samples, the main thread reads."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started: Optional[float] = None
        self._ended: Optional[float] = None
        self._samples: Deque[Tuple[float, float, Optional[Count]]] = deque()

    @property
    def started(self) -> bool:
        return self._started is not None

    def start(self) -> None:
        with self._lock:
            if self._started is None:
                self._started = self._clock()

    def stop(self) -> None:
        """Freeze the elapsed time (the task ended)."""
        with self._lock:
            if self._ended is None:
                self._ended = self._clock()

    def elapsed_s(self) -> float:
        if self._started is None:
            return 0.0
        return (self._ended if self._ended is not None else self._clock()) - self._started

    def sample(self, fraction: float, status: str) -> None:
        now = self._clock()
        with self._lock:
            if self._started is None:
                self._started = now
            self._samples.append((now, clamp_fraction(fraction), parse_count(status)))
            while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW_S:
                self._samples.popleft()

    def reading(self, fraction: float, status: str) -> Reading:
        """The reading now, for the latest ``fraction`` and ``status``."""
        fraction = clamp_fraction(fraction)
        count = parse_count(status)
        elapsed = self.elapsed_s()
        with self._lock:
            first = self._samples[0] if self._samples else None
        now = self._clock()
        if first is None or elapsed < MEANINGFUL_AFTER_S or now - first[0] < MEANINGFUL_AFTER_S / 2:
            return Reading(elapsed, count, None, None)
        span = now - first[0]
        rate = None
        if count is not None and first[2] is not None and first[2].unit == count.unit:
            rate = max(0.0, (count.done - first[2].done) / span)
        left = None
        gained = fraction - first[1]
        if gained > 0 and 0 < fraction < 1:
            left = (1.0 - fraction) * span / gained
        return Reading(elapsed, count, rate, left)


def format_duration(seconds: float) -> str:
    """A short duration people read at a glance: '4 s', '2 min 05 s', '1 h 03 min'."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def format_rate(rate: float) -> str:
    """A rate with as many digits as it deserves: '0.4', '3.5', '35', '4,000'."""
    if rate < 10:
        return f"{rate:.1f}"
    return f"{rate:,.0f}"
