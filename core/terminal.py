"""Progress on a terminal: a redrawn bar when stderr is a TTY, plain lines otherwise.

Pure: stdlib only.
"""
from __future__ import annotations

import time
from typing import Callable, TextIO

from .progress import Throttle

BAR_WIDTH = 30
STATUS_WIDTH = 64  # the progress text: counts · rate · time left · elapsed


class ProgressDisplay:
    """Show a task's progress on ``stream``; call ``update()`` as often as you like."""

    def __init__(self, stream: TextIO, label: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.label = label
        self.is_tty = bool(getattr(stream, "isatty", lambda: False)())
        self._redraw = Throttle(0.1, clock)  # a bar redrawn ten times a second reads as smooth
        self._last_decile = -1
        self._drawn = False

    def update(self, fraction: float, status: str = "") -> None:
        fraction = min(1.0, max(0.0, fraction))
        if self.is_tty:
            if self._redraw.ready():
                filled = int(round(fraction * BAR_WIDTH))
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {status[:STATUS_WIDTH]:<{STATUS_WIDTH}}")
                self.stream.flush()
                self._drawn = True
        else:
            decile = int(fraction * 10)
            if decile > self._last_decile:
                self._last_decile = decile
                suffix = f" {status}" if status else ""
                self.stream.write(f"{self.label}: {decile * 10}%{suffix}\n")
                self.stream.flush()

    def close(self) -> None:
        """End the bar's line so later output starts on a fresh one."""
        if self.is_tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
