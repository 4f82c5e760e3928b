"""Run tasks outside the QGIS desktop: a headless QgsApplication, a bounded wait, and
``run_task``, the command line's run of one task (terminal progress, Ctrl-C as cancel, its
exit code).

For the CLI, scripts and tests only. Inside QGIS nothing waits: results arrive in
``finished()``; a nested event loop on the GUI thread is what freezes plugins.
"""
from __future__ import annotations

import argparse
import atexit
import ctypes
import os
import signal
import sys
import time
from typing import Callable, List, Optional

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication

from .errors import EXIT_CANCELED, EXIT_FAILED, EXIT_OK
from .log import stderr_notifier
from .task import OffloadTask, start
from .terminal import ProgressDisplay

_APP: List[QgsApplication] = []  # keeps the headless application alive for the process
_APP_FULL: List[bool] = []  # set once initQgis() ran
CLEANUP_GRACE_S = 10.0  # how long a timed-out task gets to clean up after cancel()


def headless_app(full: bool = False) -> QgsApplication:
    """Start (once) a QgsApplication without a screen, or return the running one.

    The task manager works without ``initQgis()``, which costs 0.3 s and 35 MB (providers,
    authentication…); pass ``full=True`` to load layers or render maps. A full application
    Offload started is shut down with ``exitQgis()`` at exit: left to the C++ exit handlers,
    QGIS's cache of coordinate transforms (filled by worker threads) crashes the process.
    """
    app = QgsApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QgsApplication([], full)
        if full:
            app.initQgis()
            atexit.register(app.exitQgis)
        _APP.append(app)
    elif full and not _APP_FULL:
        app.initQgis()
        if app in _APP:  # ours to shut down
            atexit.register(app.exitQgis)
    if full:
        _APP_FULL.append(True)
    return app


def keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse instead of returning it to the system at once.

    Block-wise work frees and allocates arrays of the same size all the time; returning them
    means faulting fresh pages in again, which costs a third of a raster calculation here.
    Only for processes Offload owns (the CLI): inside QGIS the allocator is QGIS's business.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (Windows, macOS): nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    libc.mallopt(m_trim_threshold, 512 * 1024 * 1024)
    libc.mallopt(m_mmap_threshold, 64 * 1024 * 1024)


def wait_for(
    task: OffloadTask,
    timeout_s: Optional[float] = None,
    on_tick: Optional[Callable[[], None]] = None,
    poll_s: float = 0.01,
) -> bool:
    """Process events until ``task`` has finished; return its result.

    :param on_tick: called on every turn of the loop (progress display, Ctrl-C check).
    :raises TimeoutError: after ``timeout_s``; the task is canceled and given time to clean up.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while task.result is None:
        QCoreApplication.processEvents()
        if on_tick is not None:
            on_tick()
        if deadline is not None and time.monotonic() > deadline:
            task.cancel()
            _drain(task, CLEANUP_GRACE_S)
            raise TimeoutError(f"{task.title!r} still running after {timeout_s:g} s; canceled")
        time.sleep(poll_s)
    return bool(task.result)


def _drain(task: OffloadTask, grace_s: float) -> None:
    deadline = time.monotonic() + grace_s
    while task.result is None and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.01)


# Signals that end a headless run the way Ctrl-C does: canceled, temporary files removed.
_CANCEL_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def run_task(build: Callable[[], OffloadTask], args: argparse.Namespace, full_qgis: bool = False) -> int:
    """Build a task (validation errors raise InputError), run it on the task manager with a
    terminal progress display, and return the exit code.

    Ctrl-C, SIGTERM and SIGHUP cancel the task: it cleans up, and the exit code is 130.
    (kill -9 cannot be caught; the next run beside the output sweeps what it left.)

    :param full_qgis: the task opens layers through QGIS's providers (``initQgis()``).
    """
    keep_freed_memory()
    headless_app(full=full_qgis)
    task = build()
    task.notify = stderr_notifier
    task.load_outputs = False
    display = ProgressDisplay(sys.stderr, args.command)
    interrupted = []

    def on_signal(signum, _frame) -> None:
        interrupted.append(signum)

    def tick() -> None:
        if interrupted and not task.cancel_requested:
            task.cancel()
        display.update(task.overall_fraction(), task.progress_text())

    previous = {signum: signal.signal(signum, on_signal) for signum in _CANCEL_SIGNALS}
    try:
        start(task)
        wait_for(task, on_tick=tick)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        display.close()
    if task.result:
        return EXIT_OK
    if task.canceled:
        print(f"offload {args.command}: canceled; nothing partial was left behind", file=sys.stderr)
        return EXIT_CANCELED
    if args.debug and task.traceback:
        print(task.traceback, file=sys.stderr, end="")
    return EXIT_FAILED
