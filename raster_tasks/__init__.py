"""Raster family: block-wise raster math over GDAL rasters (see issue: Raster family)."""
