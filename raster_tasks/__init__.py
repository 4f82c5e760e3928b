"""Raster family: numpy expressions over GDAL rasters, window by window (``offload:calc``, ``calc``)."""
