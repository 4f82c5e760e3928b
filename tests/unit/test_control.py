"""What an engine gets from whoever runs it: the Control, and the Gate that throttles it."""
from __future__ import annotations

from offload.core.control import Control, Gate


def test_control_within_maps_progress_into_a_span():
    seen = []
    inner = Control(report=lambda f, s=None: seen.append((round(f, 3), s))).within(0.5, 0.25)
    inner.report(0.0)
    inner.report(1.0, "end")
    assert seen == [(0.5, None), (0.75, "end")]


def test_default_control_does_nothing_and_never_cancels():
    control, hooked = Control(), []
    assert control.report(0.5, "half") is None and control.within(0.5, 0.5).report(1.0) is None
    assert control.check_canceled() is None  # no Canceled, however often it is asked
    remove = control.on_cancel(lambda: hooked.append("ran"))
    assert remove() is None and hooked == []  # nothing ever cancels, so the hook never runs


def test_the_gate_asks_the_source_at_most_every_interval_and_remembers_a_cancel():
    now, asked, shown = [0.0], [], []
    gate = Gate(lambda: asked.append(now[0]) or now[0] >= 0.1, shown.append, clock=lambda: now[0])
    for _ in range(1000):  # 1000 turns of a loop within one millisecond of the clock
        assert not gate.canceled()
        gate.progress(0.5)
    assert asked == [0.0] and shown == [0.5]
    now[0] = 0.1
    assert gate.canceled() and gate.canceled() and asked == [0.0, 0.1]  # asked once more, then remembered
