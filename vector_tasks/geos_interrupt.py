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

A ``GeosWatch`` does this for every thread of a run that buffers: its watchdog also bounds
memory (a GEOS call that makes the process grow past the run's bound is interrupted too, and
the run fails naming the feature), and stops the other threads when one fails.

Where GEOS's C library cannot be found, ``available()`` is False and a cancel waits for the
running call to end, as before.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Set

from ..core.errors import Canceled, TaskFailed
from ..core.memory import resident_bytes

WATCH_INTERVAL_S = 0.05  # how often the watchdog asks whether the run was canceled
_CALLBACK = ctypes.CFUNCTYPE(None)
_LIBRARY_NAMES = {"win32": ("geos_c.dll", "geos_c"), "darwin": ("libgeos_c.dylib", "geos_c")}

_lock = threading.Lock()
_targets: Set[int] = set()  # threads whose GEOS calls are to be interrupted
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


class GeosWatch:
    """While open, a watchdog thread stops the GEOS calls of every thread inside ``watched()``
    (and of any that enters later) when ``check_canceled()`` raises ``Canceled`` (asked every
    ``WATCH_INTERVAL_S``), when the process has grown by more than ``max_growth_bytes`` since
    the watch opened (less what ``held()`` says the run keeps on purpose), or when ``stop()`` is
    called (the run failed elsewhere).

    A stopped call returns an empty geometry; the thread that sees one calls ``check()``,
    which raises why the run stops. The watch keeps the reason, never an exception: an
    exception's traceback would hold the threads' frames, and those the watch (a cycle that
    keeps the layer's snapshot alive until Python's garbage collector runs, on any thread).
    """

    def __init__(self, check_canceled: Callable[[], None], max_growth_bytes: Optional[int] = None,
                 held: Callable[[], int] = lambda: 0, on_stop: Callable[[str], None] = lambda reason: None) -> None:
        self._check_canceled = check_canceled
        self._max_growth = max_growth_bytes
        self._held = held  # bytes the run holds on purpose (results waiting to be written): not growth
        self._on_stop = on_stop  # what else stops with GEOS (a running SQL statement), given the reason
        self._lock = threading.Lock()
        self._inside: Set[int] = set()
        self._reason: Optional[str] = None  # "canceled", "memory" or "failed"
        self._done = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="offload-geos-watchdog", daemon=True)

    def __enter__(self) -> "GeosWatch":
        self._baseline = resident_bytes() if self._max_growth else None
        self._watchdog.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._watchdog.join()

    @contextmanager
    def watched(self) -> Iterator[None]:
        """While inside, this thread's GEOS calls stop when the watch stops."""
        thread_id = threading.get_ident()
        with self._lock:
            self._inside.add(thread_id)
            if self._reason is not None:
                interrupt(thread_id)
        try:
            yield
        finally:
            with self._lock:
                self._inside.discard(thread_id)
            release(thread_id)

    def stop(self, reason: str = "failed") -> None:
        """Stop every watched thread's GEOS calls from now on; ``reason`` ("canceled", "memory",
        "failed") says what ``check()`` raises. The first reason given stays."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            for thread_id in self._inside:
                interrupt(thread_id)
        self._on_stop(reason)

    @property
    def reason(self) -> Optional[str]:
        """Why the watch stopped ("canceled", "memory", "failed"); None while it has not."""
        return self._reason

    @property
    def stopped(self) -> bool:
        """True once the watch has stopped (no sip call: cheap enough to ask after every GEOS call)."""
        return self._reason is not None

    def check(self, what: str = "a geometry") -> None:
        """Raise why the watch stopped, if it did: ``Canceled``; ``TaskFailed`` naming ``what``
        (the feature being buffered) for memory; ``Stopped`` for a failure met elsewhere."""
        reason = self._reason
        if reason == "canceled":
            raise Canceled("canceled")
        if reason == "memory":
            raise TaskFailed(f"{what} needed more than {self._max_growth // 2 ** 20:,} MB to buffer; GEOS was "
                             "stopped (--max-memory-mb raises the bound)")
        if reason is not None:
            raise Stopped()

    def _watch(self) -> None:
        while not self._done.wait(WATCH_INTERVAL_S):
            try:
                self._check_canceled()
            except Canceled:
                self.stop("canceled")
                return
            now = resident_bytes() if self._baseline is not None else None
            if now is not None and now - self._baseline - self._held() > self._max_growth:
                self.stop("memory")
                return


class Stopped(Exception):
    """The run stopped for a failure met elsewhere (that failure is the one reported)."""
