"""How much memory this process holds now (resident set), where the platform tells.

Pure: stdlib only.
"""
from __future__ import annotations

import os
import sys
from typing import Optional


def resident_bytes() -> Optional[int]:
    """The process's resident memory in bytes (its peak so far on macOS); None where unknown."""
    try:
        if sys.platform.startswith("linux"):
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        if sys.platform == "darwin":
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # bytes on macOS
        if sys.platform == "win32":
            return _windows_working_set()
    except (OSError, ValueError, AttributeError):
        return None
    return None


def _windows_working_set() -> Optional[int]:
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD),
                    ("PeakWorkingSetSize", ctypes.c_size_t), ("WorkingSetSize", ctypes.c_size_t),
                    ("QuotaPeakPagedPoolUsage", ctypes.c_size_t), ("QuotaPagedPoolUsage", ctypes.c_size_t),
                    ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t), ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
                    ("PagefileUsage", ctypes.c_size_t), ("PeakPagefileUsage", ctypes.c_size_t)]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    process = ctypes.windll.kernel32.GetCurrentProcess()  # type: ignore[attr-defined]
    if not ctypes.windll.psapi.GetProcessMemoryInfo(process, ctypes.byref(counters), counters.cb):  # type: ignore
        return None
    return int(counters.WorkingSetSize)
