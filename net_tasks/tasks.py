"""The network family's tasks: thin ``OffloadTask`` wrappers around the engines."""
from __future__ import annotations

from pathlib import Path

from ..core.task import OffloadTask
from .download import FileRequest, run_download, validate_file_request


class FileDownloadTask(OffloadTask):
    """Download one file, streamed and checked, into ``request.output`` (atomically)."""

    def __init__(self, request: FileRequest, kind: str = "file", **task_options) -> None:
        request = validate_file_request(request)
        super().__init__(f"Download {request.output.name}", **task_options)
        self.request = request
        self.output = self.declare_output(self.request.output, kind, overwrite=self.request.overwrite)
        self.sha256 = ""

    def work(self) -> None:
        self.sha256 = run_download(self.request, self.output.temp_path, self.control())


class TileDownloadTask(OffloadTask):
    """Download the tiles over a bbox and mosaic them into a georeferenced GeoTIFF."""

    def __init__(self, request, **task_options) -> None:
        from .tile_download import validate_tile_request

        plan = validate_tile_request(request)  # InputError here: no request sent, nothing written
        super().__init__(f"Tiles z{request.zoom} ({plan.tiles.count}) → {Path(request.output).name}", **task_options)
        self.plan = plan
        self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)
        self.stats = None

    def work(self) -> None:
        from .tile_download import run_tiles

        self.stats = run_tiles(self.plan, self.output.temp_path, self.control())
