"""Window-sized arrays handed back after use and handed out again, by any thread.

Inside QGIS, glibc gives the memory of a freed megabyte back to the system between windows,
so every fresh window-sized array costs a page fault per 4 KB page at first touch: an 8192²
NDVI's expression took 65,000 faults (0.1-0.2 s of CPU) for its temporaries alone. The
calculator's windows all have one shape, so the few arrays in flight at once can serve them all.

Pure: stdlib + numpy only.
"""
from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from typing import Dict, List, Tuple

import numpy as np


class ArrayPool:
    """Arrays by shape and type. ``take`` hands one out, fresh or given back earlier; ``give``
    takes back only what this pool handed out and nobody gave back since, so an array given
    twice, or one the pool never lent, is left alone rather than handed to two holders.

    Lent arrays are weakly held: one its holder drops instead of giving back is simply freed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: Dict[Tuple[Tuple[int, ...], np.dtype], List[np.ndarray]] = defaultdict(list)
        self._lent: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()

    def take(self, shape: Tuple[int, ...], dtype) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` with unspecified values, the caller's until given back."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            free = self._free.get(key)
            array = free.pop() if free else None
        if array is None:
            array = np.empty(key[0], key[1])
        with self._lock:
            self._lent[id(array)] = array
        return array

    def give(self, array: np.ndarray) -> None:
        """Take ``array`` back for a later ``take``: its holder must not use it again."""
        with self._lock:
            if self._lent.get(id(array)) is not array:
                return
            del self._lent[id(array)]
            self._free[(array.shape, array.dtype)].append(array)
