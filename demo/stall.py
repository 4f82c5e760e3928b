"""Measure how long the main thread's event loop is held up while tasks run.

A 10 ms ``QTimer`` ticks on the main thread inside a real ``QEventLoop`` (the situation of
the QGIS desktop); the largest gap between ticks is the longest the map canvas would
have frozen. Used by the benchmarks and the tests, never by the plugin itself.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, List

from qgis.PyQt.QtCore import QEventLoop, QTimer

TICK_MS = 10


@dataclass
class StallReport:
    """Gaps between main-thread timer ticks, in milliseconds."""

    gaps_ms: List[float] = field(default_factory=list)

    @property
    def max_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)

    def percentile_ms(self, q: float) -> float:
        if not self.gaps_ms:
            return 0.0
        ordered = sorted(self.gaps_ms)
        return ordered[min(len(ordered) - 1, int(q / 100.0 * len(ordered)))]


def measure_stalls(is_done: Callable[[], bool], timeout_s: float) -> StallReport:
    """Run the main event loop until ``is_done()``, recording the gaps between 10 ms ticks."""
    report = StallReport()
    loop = QEventLoop()
    last = [time.perf_counter()]
    deadline = time.monotonic() + timeout_s

    def tick() -> None:
        now = time.perf_counter()
        report.gaps_ms.append((now - last[0]) * 1000.0)
        last[0] = now
        if is_done() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    if not is_done():
        raise TimeoutError(f"task still running after {timeout_s} s")
    return report
