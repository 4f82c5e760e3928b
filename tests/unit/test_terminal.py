"""Progress on a terminal: deciles on a pipe, one redrawn line on a TTY."""
from __future__ import annotations

import io

from offload.core.terminal import ProgressDisplay


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_display_without_a_terminal_prints_deciles():
    stream = io.StringIO()
    display = ProgressDisplay(stream, "calc")
    for step in range(101):
        display.update(step / 100, "working")
    display.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "calc: 0% working" and lines[-1] == "calc: 100% working" and len(lines) == 11


def test_progress_display_on_a_terminal_redraws_one_line():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream, clock = Tty(), FakeClock()
    display = ProgressDisplay(stream, "tiles", clock)
    display.update(0.0)
    clock.now = 0.05
    display.update(0.4)  # too soon: not drawn
    clock.now = 0.2
    display.update(0.5, "3 MB")
    display.close()
    text = stream.getvalue()
    assert text.count("\r") == 2 and "50.0%" in text and "40.0%" not in text and text.endswith("\n")


# -- the meter behind the progress text ------------------------------------------------
