"""Logging under the plugin's tag, and the notifier protocol the front ends inject.

``log()`` is safe from any thread (QgsMessageLog is thread-safe). A notifier is only
called from ``finished()``, on the main thread: the plugin injects one that writes to
the message bar, the CLI one that writes to stderr, so tasks never import ``iface``.
"""
from __future__ import annotations

import sys
from typing import Protocol

from qgis.core import Qgis, QgsMessageLog

TAG = "Offload"

INFO = Qgis.MessageLevel.Info
WARNING = Qgis.MessageLevel.Warning
CRITICAL = Qgis.MessageLevel.Critical
SUCCESS = Qgis.MessageLevel.Success


def log(message: str, level: Qgis.MessageLevel = INFO) -> None:
    """Write to the QGIS log panel under Offload's tag (any thread)."""
    QgsMessageLog.logMessage(message, TAG, level, notifyUser=False)


class Notifier(Protocol):
    """Tells a person one line about a task's result. Called on the main thread only."""

    def __call__(self, message: str, level: Qgis.MessageLevel) -> None: ...


def log_notifier(message: str, level: Qgis.MessageLevel) -> None:
    """Default notifier: the log panel only (scripts, tests)."""
    log(message, level)


_DEFAULT_NOTIFIER: list = [log_notifier]  # the plugin swaps in its message bar while loaded


def set_default_notifier(notifier: "Notifier | None") -> None:
    """Use ``notifier`` for tasks built without one (``None``: back to the log panel)."""
    _DEFAULT_NOTIFIER[0] = notifier or log_notifier


def default_notifier() -> Notifier:
    """The notifier for tasks built without one."""
    return _DEFAULT_NOTIFIER[0]


def stderr_notifier(message: str, level: Qgis.MessageLevel) -> None:
    """The CLI's notifier: one line on stderr for warnings and errors."""
    if level in (WARNING, CRITICAL):
        print(f"offload: {message}", file=sys.stderr)
