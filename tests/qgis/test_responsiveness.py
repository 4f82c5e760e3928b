"""The base's cancel check and progress keep the main thread responsive (issue 2, item 8)."""
from __future__ import annotations

import time

from offload.demo.stall import measure_stalls
from offload.core.task import OffloadTask, start


class BusyLoopTask(OffloadTask):
    """A pure-Python loop that checks for cancel and reports progress on every iteration."""

    def __init__(self, seconds: float):
        super().__init__("busy loop")
        self.seconds = seconds
        self.iterations = 0

    def work(self) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            self.check_canceled()
            self.report((time.monotonic() - deadline + self.seconds) / self.seconds)
            self.iterations += 1


def test_a_tight_loop_through_the_base_does_not_stall_the_main_thread():
    task = start(BusyLoopTask(1.5))
    report = measure_stalls(lambda: task.result is not None, timeout_s=20)
    assert task.result is True
    assert task.iterations > 1000, "the loop must call the base far more often than it may ask QGIS"
    # Behaviour, not a figure: the main thread's 10 ms timer kept firing while the loop ran (a
    # starved main thread ticks once, when the loop ends). bench-responsiveness measures the stall.
    assert len(report.gaps_ms) > 5, f"the main thread ran {len(report.gaps_ms)} times in 1.5 s of work"
