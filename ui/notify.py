"""The plugin's notifier: one line in QGIS's message bar (main thread only)."""
from __future__ import annotations

from qgis.core import Qgis

from ..core.log import TAG

DURATION_S = {Qgis.MessageLevel.Success: 5, Qgis.MessageLevel.Info: 5, Qgis.MessageLevel.Warning: 10}


class MessageBarNotifier:
    """Pushes task results to ``iface.messageBar()``; errors stay until dismissed."""

    def __init__(self, iface) -> None:
        self.iface = iface

    def __call__(self, message: str, level: Qgis.MessageLevel) -> None:
        self.iface.messageBar().pushMessage(TAG, message, level, DURATION_S.get(level, 0))
