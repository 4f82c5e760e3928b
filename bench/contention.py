"""How much of the machine other processes took while a timed block ran (Linux; None elsewhere).

On a shared 2-core machine a run that another process competes with loses up to half its
cores, and a tool that uses both cores (offload:calc) loses more than one that uses one
(gdal_calc.py): session 10's NDVI lines swung 1.24-3.46× with nothing changed. The share is
the CPU time every process used (``/proc/stat``: busy and stolen time) less this process's
and its waited-for children's, over the block's wall time on every core. ``/proc/stat``
counts in 10 ms ticks, so a share of a block shorter than ~0.2 s is rough.
"""
from __future__ import annotations

import os
import resource
import time
from typing import Optional


def machine_cpu_seconds() -> Optional[float]:
    """CPU seconds all processes have used since boot, stolen time included; None without /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU time and its waited-for children's (gdal_calc.py's, for instance)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class OthersShare:
    """``with OthersShare() as others: …`` then ``others.share``: the part of all cores that other
    processes used during the block (0-1), or None where it cannot be told; ``others.own_cpu``:
    the CPU seconds this process and its waited-for children used in it."""

    def __init__(self) -> None:
        self.share: Optional[float] = None
        self.own_cpu: Optional[float] = None  # CPU seconds of this process and its waited-for children

    def __enter__(self) -> "OthersShare":
        self._machine, self._own, self._wall = machine_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        machine, own, wall = machine_cpu_seconds(), own_cpu_seconds(), time.perf_counter() - self._wall
        self.own_cpu = own - self._own
        if machine is None or self._machine is None or wall <= 0:
            return
        others = (machine - self._machine) - (own - self._own)
        self.share = min(1.0, max(0.0, others / (wall * (os.cpu_count() or 1))))


def wait_until_quiet(limit: float, most_seconds: float, sample_seconds: float = 0.25) -> float:
    """Wait until other processes use at most ``limit`` of all cores over one sample, for at most
    ``most_seconds``; returns the seconds waited (``most_seconds`` when it never was quiet)."""
    started = time.perf_counter()
    while time.perf_counter() - started < most_seconds:
        with OthersShare() as others:
            time.sleep(sample_seconds)
        if others.share is None or others.share <= limit:
            break
    return time.perf_counter() - started
