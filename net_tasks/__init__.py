"""Network family: tiled downloads (a GeoTIFF/COG mosaic, or a GeoPackage/MBTiles package of the
tiles as served), and plain file downloads. ``request.py`` declares what they take."""
