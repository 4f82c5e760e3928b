"""Offload's Processing provider: its algorithms in the Toolbox, the modeler, batch mode and qgis_process."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON_PATH = Path(__file__).resolve().parent / "resources" / "icon.svg"


class OffloadProvider(QgsProcessingProvider):
    """Provider ``offload``: each family adds its algorithms here."""

    def id(self) -> str:
        return "offload"

    def name(self) -> str:
        return "Offload"

    def longName(self) -> str:  # noqa: N802
        return "Offload: heavy work without freezing QGIS"

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self) -> None:  # noqa: N802
        from .net_tasks.algorithms import DownloadAlgorithm, TilesAlgorithm
        from .raster_tasks.algorithms import CalcAlgorithm
        from .raster_tasks.warm_up import start_warm_up as start_raster_warm_up
        from .vector_tasks.algorithms import BufferAlgorithm

        self.addAlgorithm(CalcAlgorithm())
        self.addAlgorithm(TilesAlgorithm())
        self.addAlgorithm(DownloadAlgorithm())
        self.addAlgorithm(BufferAlgorithm())
        # The raster engine's imports, on a thread, from now: not in the provider's load, and not (or
        # only their tail) in a first calculation, even where no event loop runs (qgis_process, a
        # script). What it costs QGIS's start-up is said in raster_tasks/warm_up.py.
        start_raster_warm_up()
