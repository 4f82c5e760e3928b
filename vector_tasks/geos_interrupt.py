"""A cancel that reaches into a GEOS call already running.

One GEOS call can run for many minutes (a buffer of a zig-zag polygon of 10⁶ vertices ran
more than 10 min at 11.5 GB), and nothing between features can stop it. GEOS has its own
way: at its check points (noding, overlay) it calls a registered callback, and throws
"Interrupted" when ``GEOS_interruptRequest()`` was called. QGIS catches that and returns an
empty geometry, which a canceled run discards.

The request is process-wide, and QGIS's own threads (rendering) call GEOS too, so it must
not hit them: on cancel we register a callback that asks for the interrupt only in the
threads named, and remove it when they are done. The callback runs in Python (it holds the
GIL at every check point), so it is registered only between a cancel and the end of the run.

The same watchdog bounds memory: a GEOS call that makes the process grow by more than the
run's bound is interrupted too, and ``raise_if_over_memory()`` then fails the run naming it.

Where GEOS's C library cannot be found, ``available()`` is False and a cancel waits for the
running call to end, as before.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional, Set

from ..core.errors import Canceled, TaskFailed
from ..core.memory import resident_bytes

# A pathological geometry (a zig-zag of 10⁶ vertices) can make one GEOS buffer grow for minutes
# into many GB; past this growth of the process the call is stopped and the run fails naming it.
DEFAULT_MAX_MEMORY_MB = 4096
WATCH_INTERVAL_S = 0.05  # how often the watchdog asks whether the run was canceled
_CALLBACK = ctypes.CFUNCTYPE(None)
_LIBRARY_NAMES = {"win32": ("geos_c.dll", "geos_c"), "darwin": ("libgeos_c.dylib", "geos_c")}

_lock = threading.Lock()
_targets: Set[int] = set()  # threads whose GEOS calls are to be interrupted
_over_memory: Dict[int, int] = {}  # thread → the bound (bytes) its GEOS call went past
_state = {"library": None, "loaded": False, "previous": None}


def _library() -> Optional[ctypes.CDLL]:
    """GEOS's C library, the one QGIS already loaded (None if not found)."""
    if not _state["loaded"]:
        _state["loaded"] = True
        for name in _LIBRARY_NAMES.get(sys.platform, ("libgeos_c.so.1", "geos_c")):
            path = ctypes.util.find_library(name) if "." not in name else name
            try:
                library = ctypes.CDLL(path) if path else None
            except OSError:
                continue
            if library is not None and hasattr(library, "GEOS_interruptRegisterCallback"):
                library.GEOS_interruptRegisterCallback.restype = ctypes.c_void_p
                library.GEOS_interruptRegisterCallback.argtypes = [ctypes.c_void_p]
                _state["library"] = library
                break
    return _state["library"]


def available() -> bool:
    """True when a running GEOS call can be interrupted here."""
    return _library() is not None


def _check_point() -> None:
    """GEOS's callback, at each of its check points, in whatever thread is in GEOS."""
    if threading.get_ident() in _targets:
        _state["library"].GEOS_interruptRequest()


_check_point_c = _CALLBACK(_check_point)  # kept referenced: GEOS holds the bare pointer


def interrupt(thread_id: int) -> None:
    """Interrupt the GEOS calls of thread ``thread_id`` (a ``threading.get_ident()``) from now
    on, until ``release(thread_id)``; their results are empty geometries, to be discarded."""
    library = _library()
    if library is None:
        return
    with _lock:
        if not _targets:
            _state["previous"] = library.GEOS_interruptRegisterCallback(
                ctypes.cast(_check_point_c, ctypes.c_void_p))
        _targets.add(thread_id)


def release(thread_id: int) -> None:
    """Stop interrupting thread ``thread_id``; the last one out removes the callback."""
    with _lock:
        if thread_id not in _targets:
            return
        _targets.discard(thread_id)
        if not _targets:
            library = _library()
            library.GEOS_interruptRegisterCallback(_state["previous"])
            library.GEOS_interruptCancel()  # a request no check point consumed must not hit anyone later


def raise_if_over_memory(what: str) -> None:
    """Fail the run if this thread's GEOS call was interrupted for memory (``what``: the feature)."""
    bound = _over_memory.pop(threading.get_ident(), None)
    if bound is not None:
        raise TaskFailed(f"{what} needed more than {bound // 2 ** 20:,} MB to buffer; GEOS was stopped "
                         "(--max-memory-mb raises the bound)")


@contextmanager
def interrupted_on_cancel(check_canceled: Callable[[], None], max_growth_bytes: Optional[int] = None) -> Iterator[None]:
    """While inside, a cancel interrupts this thread's GEOS calls: a watchdog thread polls
    ``check_canceled()`` (which raises ``Canceled``) every ``WATCH_INTERVAL_S``. So does the
    process growing by more than ``max_growth_bytes`` from now (see ``raise_if_over_memory``)."""
    thread_id = threading.get_ident()
    done = threading.Event()
    baseline = resident_bytes() if max_growth_bytes else None

    def watch() -> None:
        while not done.wait(WATCH_INTERVAL_S):
            try:
                check_canceled()
            except Canceled:
                interrupt(thread_id)
                return
            now = resident_bytes() if baseline is not None else None
            if now is not None and now - baseline > max_growth_bytes:
                _over_memory[thread_id] = max_growth_bytes
                interrupt(thread_id)
                return

    watchdog = threading.Thread(target=watch, name="offload-geos-watchdog", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()
        release(thread_id)
        _over_memory.pop(thread_id, None)
