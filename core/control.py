"""What an engine gets from whoever runs it: progress, cancel checks, and abort hooks.

Engines (``run_download``, ``run_calc``, …) take a ``Control`` instead of a task, so the
same engine runs in an ``OffloadTask``, in a Processing algorithm (with its feedback) and
in plain tests. Pure: stdlib only.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import Canceled
from .progress import Clock, Throttle

SIP_POLL_INTERVAL_S = 0.02  # how often a cancel check may ask QGIS (GIL starvation below ~5 ms)
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress updates a second


def _no_progress(_fraction: float, _status: Optional[str] = None) -> None:
    return None


def _never_canceled() -> None:
    return None


def _no_hook(_hook: Callable[[], None]) -> Callable[[], None]:
    return lambda: None


@dataclass(frozen=True)
class Control:
    """Callables an engine uses while it works.

    ``report(fraction, status)`` records progress (0..1); ``check_canceled()`` raises
    ``Canceled`` when the run was canceled; ``on_cancel(hook)`` registers ``hook`` to run
    when a cancel comes (to abort a blocking read) and returns its remover.
    """

    report: Callable[..., None] = _no_progress
    check_canceled: Callable[[], None] = _never_canceled
    on_cancel: Callable[[Callable[[], None]], Callable[[], None]] = _no_hook

    def within(self, start: float, span: float) -> "Control":
        """The same control, with progress mapped into ``[start, start + span]``."""
        outer = self.report

        def report(fraction: float, status: Optional[str] = None) -> None:
            outer(start + span * fraction, status)

        return Control(report, self.check_canceled, self.on_cancel)


def gdal_callback(control: Control) -> Callable[..., int]:
    """A GDAL progress callback: reports into ``control`` and returns 0 (GDAL stops) on cancel."""

    def callback(fraction: float, _message: Any = None, _data: Any = None) -> int:
        control.report(fraction)
        try:
            control.check_canceled()
        except Canceled:
            return 0
        return 1

    return callback


class Gate:
    """What a worker loop may ask of QGIS, throttled: every such call goes through sip and takes
    the GIL, so a loop that asked on every turn would starve QGIS's main thread.

    One gate serves every runner of an engine: the base task (its ``isCanceled`` and
    ``setProgress``), Processing's feedback, and the terminal's display.
    """

    def __init__(self, is_canceled: Callable[[], bool], show_progress: Callable[[float], None],
                 clock: Clock = time.monotonic) -> None:
        self._is_canceled = is_canceled
        self._show_progress = show_progress
        self._poll = Throttle(SIP_POLL_INTERVAL_S, clock)
        self._progress = Throttle(PROGRESS_INTERVAL_S, clock)
        self.cancel_seen = False

    def canceled(self) -> bool:
        """True once the source says canceled (asked at most every ``SIP_POLL_INTERVAL_S``)."""
        if not self.cancel_seen and self._poll.ready() and self._is_canceled():
            self.cancel_seen = True
        return self.cancel_seen

    def progress(self, fraction: float) -> None:
        """Pass ``fraction`` on, at most every ``PROGRESS_INTERVAL_S``."""
        if self._progress.ready():
            self._show_progress(fraction)
