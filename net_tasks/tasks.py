"""The network family's tasks: thin ``OffloadTask`` wrappers around the engines."""
from __future__ import annotations

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
