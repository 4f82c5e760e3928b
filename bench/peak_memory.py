"""Peak memory a block of code adds to this process and the processes it starts (Linux).

The process's own peak is exact: its high-water mark (VmHWM) is reset before the block
(``/proc/self/clear_refs``) and read after. Child processes (gdal:rastercalculator runs
gdal_calc.py) are sampled every few milliseconds with this process's RSS; their
``ru_maxrss`` would not do, since a child forked from a large process starts with the
parent's pages counted.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator, Optional

SAMPLE_S = 0.02  # a sample costs ~0.25 ms: ~1 % of one core


def _status_kb(pid: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):  # the process just ended
        pass
    return 0


def _descendants(pid: str) -> Iterator[str]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return
    for task in tasks:  # a thread's children are listed under that thread
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield child
            yield from _descendants(child)


def _total_kb() -> int:
    return _status_kb("self", "VmRSS") + sum(_status_kb(child, "VmRSS") for child in _descendants("self"))


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.added_mb``: the highest RSS of this
    process plus its descendants during the block, less this process's RSS before it."""

    def __init__(self) -> None:
        self.added_mb: Optional[float] = None
        self._base_kb = 0
        self._peak_kb = 0
        self._reset = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak_kb = max(self._peak_kb, _total_kb())
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> "PeakMemory":
        self._base_kb = _status_kb("self", "VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
        except OSError:  # not allowed here: VmHWM may then be an earlier peak, so trust the samples only
            self._reset = False
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        own_peak_kb = _status_kb("self", "VmHWM") if self._reset else 0
        self.added_mb = (max(self._peak_kb, own_peak_kb) - self._base_kb) / 1024.0
