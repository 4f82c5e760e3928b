"""An MBTiles package's band statistics, stored beside it before QGIS loads it.

QGIS computes approximate statistics of a new raster layer's bands as it builds the layer (its
default contrast enhancement). GDAL computes them on an overview (the smallest of more than
2,500 pixels) and records them on that overview's dataset too. GDAL 3.6's MBTiles driver names
an overview's dataset before the package has its name, so that record is saved, when the layer
closes, as a relative ``" - zoom_level=N.aux.xml"`` in whatever the working folder is.

Stored first on the package itself (``<package>.aux.xml`` beside it: the file QGIS writes there
at a first load anyway), the statistics are found, and nothing is computed on an overview:
not at Offload's load, not when Processing or a reopened project loads the package. They are
computed as GDAL would, on the same overview, by calls that record nothing on it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from osgeo import gdal

APPROX_SAMPLES = 2500  # GDAL's GDALSTAT_APPROX_NUMSAMPLES: an overview used for approximate statistics has more


def store_package_statistics(path: Union[str, Path]) -> None:
    """Record approximate statistics of each band of the MBTiles at ``path`` that has zoom levels
    as overviews (beside it, in GDAL's ``.aux.xml``). Anything else is left alone; best effort:
    a file GDAL cannot read is left for QGIS to refuse."""
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.OpenEx(str(path), gdal.OF_RASTER | gdal.OF_READONLY, allowed_drivers=["MBTiles"])
        if dataset is None:
            return
        for number in range(1, dataset.RasterCount + 1):
            band = dataset.GetRasterBand(number)
            sample = _sample_overview(band)
            if sample is None:
                continue
            minimum, maximum = sample.ComputeRasterMinMax(False)
            mean, stddev = sample.ComputeBandStats()
            band.SetStatistics(minimum, maximum, mean, stddev)
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
