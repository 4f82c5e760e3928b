"""Largest main-thread stall while a worker loop runs: Offload's base vs plain QgsTask loops.

Run: ``make bench-responsiveness`` (or ``python bench/responsiveness.py``). Prints a table.
A 10 ms QTimer ticks in a real QEventLoop on the main thread, as in the QGIS desktop.
"""
from __future__ import annotations

import time

from qgis.core import QgsApplication, QgsTask

from offload.core.runner import headless_app
from offload.demo.stall import measure_stalls
from offload.core.task import OffloadTask, start

SECONDS = 2.0


class OffloadLoop(OffloadTask):
    """Calls the base's check_canceled() and report() on every iteration."""

    def __init__(self):
        super().__init__("offload loop")
        self.iterations = 0

    def work(self) -> None:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            self.check_canceled()
            self.report(1 - (deadline - time.monotonic()) / SECONDS)
            self.iterations += 1


class PlainLoop(QgsTask):
    """What plugins usually write: isCanceled() and setProgress() every ``every_s``."""

    def __init__(self, every_s: float):
        super().__init__("plain loop", QgsTask.Flag.CanCancel)
        self.every_s = every_s
        self.iterations = 0
        self.done = False

    def run(self) -> bool:
        deadline = time.monotonic() + SECONDS
        last = 0.0
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now - last >= self.every_s:
                last = now
                if self.isCanceled():
                    return False
                self.setProgress(100 * (1 - (deadline - now) / SECONDS))
            self.iterations += 1
        return True

    def finished(self, ok: bool) -> None:
        self.done = True


def run_case(name: str, task, is_done) -> tuple:
    started = time.perf_counter()
    report = measure_stalls(is_done, timeout_s=60)
    elapsed = time.perf_counter() - started
    return (name, task.iterations / elapsed, report.max_ms, report.percentile_ms(99))


def main() -> None:
    headless_app()
    rows = []
    task = start(OffloadLoop())
    rows.append(run_case("Offload base: check_canceled()+report() every iteration", task, lambda: task.result is not None))
    for every_ms in (0, 1, 5, 20):
        plain = PlainLoop(every_ms / 1000)
        QgsApplication.taskManager().addTask(plain)
        rows.append(run_case(f"plain QgsTask: isCanceled()+setProgress() every {every_ms} ms", plain, lambda: plain.done))
    print(f"{'loop':62} {'iter/s':>12} {'max stall ms':>13} {'p99 ms':>8}")
    for name, rate, max_ms, p99 in rows:
        print(f"{name:62} {rate:12,.0f} {max_ms:13.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
