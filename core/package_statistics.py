"""An MBTiles package's band statistics, stored beside it before QGIS loads it.

QGIS computes approximate statistics of a new raster layer's bands as it builds the layer (its
default contrast enhancement). GDAL computes them on an overview (the smallest of more than
2,500 pixels) and records them on that overview's dataset too. GDAL 3.6's MBTiles driver names
an overview's dataset before the package has its name, so that record is saved, when the layer
closes, as a relative ``" - zoom_level=N.aux.xml"`` in whatever the working folder is.

Stored first on the package itself (``<package>.aux.xml`` beside it: the file QGIS writes there
at a first load anyway), the statistics are found, and nothing is computed on an overview:
not at Offload's load, not when Processing or a reopened project loads the package. They are
computed on the overview GDAL would use, by reads that record nothing on it, off QGIS's main
thread (the task's ``work()``, Processing's own thread). Bounded: at most ``SAMPLE_GRID`` ×
``SAMPLE_GRID`` of its tiles, spread over it (every tile of a smaller one, which gives GDAL's own
values), in one pass over the bands QGIS reads (not alpha): GDAL's whole overview of a 21,504-tile
package took 1.3-2.1 s. Values from a read that failed are never stored: QGIS computes its own then.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from osgeo import gdal

APPROX_SAMPLES = 2500  # GDAL's GDALSTAT_APPROX_NUMSAMPLES: an overview used for approximate statistics has more
SAMPLE_GRID = 8  # tiles read along each axis of that overview at most: 64 tiles, a few tens of ms

Statistics = Tuple[float, float, float, float]  # minimum, maximum, mean, standard deviation


def store_package_statistics(path: Union[str, Path], only_refresh: bool = False) -> None:
    """Record approximate statistics of each colour band of the MBTiles at ``path`` that has zoom
    levels as overviews (beside it, in GDAL's ``.aux.xml``). With ``only_refresh``, only if it has
    some already (a package added to: they would be stale). Anything else is left alone; best
    effort: a file GDAL cannot read is left for QGIS to refuse."""
    stored = Path(f"{path}.aux.xml").is_file()
    if only_refresh and not stored:
        return
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.OpenEx(str(path), gdal.OF_RASTER | gdal.OF_READONLY, allowed_drivers=["MBTiles"])
        if dataset is None:
            return
        bands = [dataset.GetRasterBand(number) for number in range(1, dataset.RasterCount + 1)]
        samples = [(band, _sample_overview(band)) for band in bands
                   if band.GetColorInterpretation() != gdal.GCI_AlphaBand]
        if not samples or any(sample is None for _, sample in samples):
            return  # one zoom: GDAL samples the package itself, recording nothing on an overview
        measured = [(band, _statistics(sample)) for band, sample in samples]
        if any(values is None for _, values in measured):
            if stored:
                dataset.ClearStatistics()  # none stale either: QGIS computes its own, as without Offload
        else:
            for band, values in measured:
                band.SetStatistics(*values)
                band.SetMetadataItem("STATISTICS_APPROXIMATE", "YES")
        dataset = None  # closed: GDAL writes the .aux.xml now
    except RuntimeError:  # only when another plugin turned GDAL's exceptions on: leave it to QGIS
        pass
    finally:
        gdal.PopErrorHandler()


def _sample_overview(band: "gdal.Band"):
    """The overview GDAL's approximate statistics read (GDALRasterBand::GetRasterSampleOverview);
    None when they would read the band itself."""
    best, best_pixels = None, band.XSize * band.YSize
    for index in range(band.GetOverviewCount()):
        overview = band.GetOverview(index)
        pixels = overview.XSize * overview.YSize if overview is not None else 0
        if APPROX_SAMPLES < pixels < best_pixels:
            best, best_pixels = overview, pixels
    return best


def _statistics(sample: "gdal.Band") -> Optional[Statistics]:
    """Minimum, maximum, mean and standard deviation of the sample's tiles read; None when a read
    failed (a package another run is committing into: its tiles read as zeros)."""
    block_x, block_y = sample.GetBlockSize()
    minimum, maximum, total, squares, count = np.inf, -np.inf, 0.0, 0.0, 0
    for row in _spread(-(-sample.YSize // block_y)):
        for column in _spread(-(-sample.XSize // block_x)):
            x, y = column * block_x, row * block_y
            gdal.ErrorReset()
            values = sample.ReadAsArray(x, y, min(block_x, sample.XSize - x), min(block_y, sample.YSize - y))
            if values is None or gdal.GetLastErrorType() >= gdal.CE_Failure:
                return None
            values = values.astype(np.float64)
            minimum, maximum = min(minimum, values.min()), max(maximum, values.max())
            total, squares, count = total + values.sum(), squares + np.square(values).sum(), count + values.size
    mean = total / count
    return float(minimum), float(maximum), float(mean), float(np.sqrt(max(squares / count - mean * mean, 0.0)))


def _spread(blocks: int) -> Sequence[int]:
    """At most ``SAMPLE_GRID`` of ``range(blocks)``, evenly spread, both ends included."""
    if blocks <= SAMPLE_GRID:
        return range(blocks)
    return sorted({round(i * (blocks - 1) / (SAMPLE_GRID - 1)) for i in range(SAMPLE_GRID)})
