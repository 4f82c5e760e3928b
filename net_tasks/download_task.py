"""The file download task: a thin ``OffloadTask`` around ``download.run_download``."""
from __future__ import annotations

from ..core.task import OffloadTask
from .download import run_download, validate_file_request
from .request import DOWNLOAD_KIND, FileRequest


class FileDownloadTask(OffloadTask):
    """Download one file, streamed and checked, into ``request.output`` (atomically)."""

    def __init__(self, request: FileRequest, kind: str = DOWNLOAD_KIND.default, **task_options) -> None:
        DOWNLOAD_KIND.check(kind)
        plan = validate_file_request(request)  # InputError here: no request sent, nothing written
        super().__init__(f"Download {plan.output.name}", **task_options)
        self.plan = plan
        self.output = self.declare_output(self.plan.output, kind, overwrite=self.plan.overwrite)

    def work(self) -> None:
        self.details = run_download(self.plan, self.output.temp_path, self.control())
