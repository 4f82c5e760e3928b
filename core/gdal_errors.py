"""Capture GDAL errors per thread, without touching the process-wide ``gdal.UseExceptions()``.

GDAL's error-handler stack is thread-local, so a handler pushed inside ``run()`` sees only
this task's errors, and QGIS and other plugins keep the behaviour they expect.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List

from osgeo import gdal

from .errors import Canceled, TaskFailed


@contextmanager
def gdal_errors_raised() -> Iterator[List[str]]:
    """Collect CPL failures raised on this thread; raise the first as ``TaskFailed``.

    A Python exception that escapes the block is replaced by the GDAL message that
    explains it (GDAL says *why* a dataset could not be opened), unless it is a cancel.
    """
    errors: List[str] = []

    def handler(level: int, _number: int, message: str) -> None:
        if level >= gdal.CE_Failure:
            errors.append(" ".join(str(message).split()))

    gdal.PushErrorHandler(handler)
    try:
        yield errors
    except Canceled:
        raise
    except Exception as exc:
        if errors:
            raise TaskFailed(f"GDAL: {errors[0]}") from exc
        raise
    finally:
        gdal.PopErrorHandler()
    if errors:
        raise TaskFailed(f"GDAL: {errors[0]}")
