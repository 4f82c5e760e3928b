"""Progress arithmetic: the throttle, weighted steps, and the meter behind the progress text."""
from __future__ import annotations

import pytest

from offload.core.progress import Throttle, clamp_fraction, weighted_fraction


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_throttle_lets_through_once_per_interval():
    clock = FakeClock()
    gate = Throttle(0.05, clock)
    passed = 0
    for _ in range(1000):  # 1 s of calls every millisecond
        passed += gate.ready()
        clock.now += 0.001
    assert passed == 20


def test_throttle_refuses_a_negative_interval():
    with pytest.raises(ValueError, match="interval_s -1 is negative"):
        Throttle(-1)


@pytest.mark.parametrize("value, expected", [(-0.5, 0.0), (0.25, 0.25), (7, 1.0), (float("nan"), 0.0)])
def test_clamp_fraction(value, expected):
    assert clamp_fraction(value) == expected


def test_weighted_fraction_counts_each_step_by_its_weight():
    assert weighted_fraction([1.0, 0.0], [1, 3]) == 0.25
    assert weighted_fraction([1.0, 0.5], [1, 3]) == 0.625
    assert weighted_fraction([1.0, 0.0], [0, 0]) == 0.5
    with pytest.raises(ValueError, match="negative weight"):
        weighted_fraction([0.0], [-1])
    with pytest.raises(ValueError, match="2 step fractions for 1 weights"):
        weighted_fraction([0.0, 0.0], [1])


from offload.core.progress import Count, ProgressMeter, format_duration, format_rate, parse_count  # noqa: E402


@pytest.mark.parametrize("status, count", [
    ("120 of 1,024 tiles", Count(120, 1024, "tiles")),
    ("window 3 of 40", Count(3, 40, "windows")),
    ("500 features read", Count(500, None, "features")),
    ("12.3 MB", Count(12.3, None, "MB")),
    ("step 2 of 3: window 1 of 9", Count(2, 3, "steps")),
    ("", None),
    ("writing the index", None),
])
def test_counts_are_read_from_the_engines_status_texts(status, count):
    assert parse_count(status) == count


def test_the_meter_gives_a_rate_and_time_left_only_once_meaningful():
    clock = FakeClock()
    meter = ProgressMeter(clock)
    meter.start()
    meter.sample(0.0, "0 of 100 tiles")
    clock.now = 0.5
    meter.sample(0.05, "5 of 100 tiles")
    early = meter.reading(0.05, "5 of 100 tiles")
    assert (early.rate, early.left_s) == (None, None) and early.elapsed_s == 0.5
    for step in range(1, 21):  # 10 tiles a second for 2 s
        clock.now = 0.5 + step * 0.1
        meter.sample(0.05 + step * 0.01, f"{5 + step} of 100 tiles")
    reading = meter.reading(0.25, "25 of 100 tiles")
    assert reading.count == Count(25, 100, "tiles")
    assert reading.rate == pytest.approx(10.0)
    assert reading.left_s == pytest.approx(7.5)  # 75 tiles at 10 a second
    assert reading.elapsed_s == pytest.approx(2.5)
    meter.stop()
    clock.now = 100.0
    assert meter.elapsed_s() == pytest.approx(2.5)


def test_the_rate_follows_the_last_seconds_only():
    clock = FakeClock()
    meter = ProgressMeter(clock)
    for second in range(60):  # 1 tile a second for a minute, then 20 a second
        clock.now = float(second)
        meter.sample(second / 1000, f"{second} of 1000 tiles")
    done = 60
    for tick in range(1, 301):
        clock.now = 60 + tick * 0.05
        done += 1
        meter.sample(done / 1000, f"{done} of 1000 tiles")
    assert meter.reading(done / 1000, f"{done} of 1000 tiles").rate == pytest.approx(20.0, rel=0.01)


@pytest.mark.parametrize("seconds, text", [(0.4, "0 s"), (4.6, "5 s"), (125, "2 min 05 s"), (3725, "1 h 02 min")])
def test_durations_read_at_a_glance(seconds, text):
    assert format_duration(seconds) == text


def test_rates_have_the_digits_they_deserve():
    assert [format_rate(r) for r in (0.42, 3.45, 35.2, 4000.4)] == ["0.4", "3.5", "35", "4,000"]
