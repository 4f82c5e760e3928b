"""Network family: tiled downloads mosaicked into GeoTIFF, and plain file downloads."""
