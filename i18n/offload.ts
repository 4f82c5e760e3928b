<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" sourcelanguage="en">
  <context>
    <name>Offload</name>
    <message>
      <location filename="../ui/forms/calc_form.py" line="56" />
      <source>(A - B) / (A + B)   — one expression per output band</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="144" />
      <source>1 band</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="47" />
      <source>256 pixels</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="48" />
      <source>512 pixels (HiDPI)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="88" />
      <source>A URL template (Tile URL template)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="129" />
      <source>A URL template (type it below)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="149" />
      <source>A file (not loaded)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="187" />
      <source>A package keeps the tiles as the server sent them</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="150" />
      <source>A raster layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="151" />
      <source>A vector layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="64" />
      <source>Add input</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="116" />
      <source>Add to an existing package (resume)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="43" />
      <source>Align on the area all inputs cover</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="44" />
      <source>Align on the area any input covers</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="24" />
      <source>All files (*)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="53" />
      <source>Area</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="73" />
      <location filename="../ui/forms/tiles_form.py" line="87" />
      <source>Area CRS</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="84" />
      <source>Band of each input, comma-separated</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="29" />
      <source>Bevel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="36" />
      <source>Buffer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="39" />
      <source>Buffer (in the background)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="61" />
      <source>Buffer distance</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="76" />
      <source>Buffered</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="48" />
      <source>Buffers features with native:buffer's parameters and results, in the background. Geographic layers can be buffered in metres; invalid geometries are fixed, skipped or fail the run. The input must be a file-based layer.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="33" />
      <source>Byte (0…255)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="121" />
      <source>Cancel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="328" />
      <source>Canceled after {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="83" />
      <source>Clip the mosaic to the area (not whole tiles)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="106" />
      <source>Clip to the extent</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="125" />
      <source>Close</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="29" />
      <source>Cloud Optimized GeoTIFF</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="36" />
      <source>Cloud Optimized GeoTIFF (with overviews)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="53" />
      <source>Computes numpy-style expressions over rasters, window by window on all cores, never holding a whole raster in memory. Inputs are named A, B, C… in order (or by Names). One expression per line gives one band each. Functions: where sqrt exp log log10 abs sin cos tan arctan2 floor ceil round minimum maximum clip isnan nan_to_num logical_and/or/not …, and neighbourhood functions slope(A), aspect(A), hillshade(A, azimuth, altitude), focal_mean/min/max(A, size) with no seams. Output is nodata where an input the expression uses is nodata; in integer outputs also where the result has no integer value (NaN, ±inf). The output type defaults to the widest type of the inputs the expression uses; the nodata value must fit it (Byte: 0 to 255). Nothing typed is ever eval'ed.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="78" />
      <source>Concurrent connections: tile servers' usage policies ask for few</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="50" />
      <source>Connections</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="67" />
      <source>Constants</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="70" />
      <source>Copy</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="91" />
      <source>Creation options (KEY=VALUE, space-separated)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="41" />
      <source>Decode</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="70" />
      <source>Dissolve result</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="41" />
      <source>Dissolve the result into one feature</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="42" />
      <source>Distance</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="64" />
      <source>Distance field (instead)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="52" />
      <source>Distance per feature</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="31" />
      <source>Distance units</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="326" />
      <source>Done in {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="253" />
      <location filename="../ui/catalog.py" line="33" />
      <source>Download a file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="51" />
      <source>Download tiles (GeoTIFF, COG, GeoPackage, MBTiles)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="28" />
      <source>Download tiles (XYZ)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="282" />
      <source>Downloaded file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="262" />
      <source>Downloads one file over HTTP(S), streamed to disk a piece at a time. The output appears only when the whole file arrived and was checked: its size against what the server promised, and its SHA-256 when one is given. An interrupted download resumes where it stopped on the next run (HTTP Range), and starts over if the server's file changed.

Timeout: the seconds the server may take to answer, and to send each further KiB; a stalled or dripping transfer fails, a slow steady one does not. Largest file: refused past this many bytes, counted once inflated (empty: no bound but the free disk).

Tokens in the URL (?token=, ?key=, user:password@) are never shown in messages or kept on disk; Processing's own log still lists the parameters as typed.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="60" />
      <source>Downloads the XYZ tiles an extent touches and mosaics them into a georeferenced GeoTIFF or COG (EPSG:3857, on the tile grid; with Min zoom, the coarser zooms become overviews), or stores them as served in a GeoPackage or MBTiles package holding every zoom from Min zoom to Zoom. An existing output is replaced, as every algorithm's; with Add to an existing package (resume), an existing package gets only the tiles it lacks. Templates take {{z}} {{x}} {{y}}, {{-y}} (TMS), {{q}} (quadkey), {{s}}. Source offers QGIS's XYZ Tiles connections (Browser) and the project's XYZ layers: their referer, HTTP headers, authentication, tile size and zoom levels go with the request; Tile URL template also takes a connection's name. Polite by default: few connections, retries honouring Retry-After, a 7-day cache, a User-Agent naming Offload, and tile.openstreetmap.org capped at 5,000 tiles as its usage policy asks. The cache folder is held to Tile cache size (512 MB): past it, the end of a completed run drops the least recently stored tiles of earlier runs. Elevation tiles (Terrarium, Terrain-RGB) decode into a Float32 DEM. An extent across the antimeridian fetches only the columns it touches.

Bounds: each attempt at a tile has Timeout seconds in all; a tile body past Largest tile body (counted once inflated) is refused, and so is an image that is not Tile size pixels square, read from its header before decoding. Nothing refused is cached. Failed tiles are named with their cause; only timeouts, dropped connections, 429 and 5xx are retried.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="97" />
      <source>Empty (the default): the output's extension decides, as it does for every Toolbox algorithm: .gpkg a GeoPackage, .mbtiles an MBTiles, anything else a GeoTIFF. A Format the extension contradicts (a GeoTIFF into a .gpkg) is refused before any request: writing it would replace the file, and whatever layers or tiles it held, with a GeoTIFF. For a temporary output, Format names the file.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="21" />
      <source>End cap style</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="279" />
      <source>Expected SHA-256 (hex)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="78" />
      <source>Expression (one per line)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="80" />
      <source>Expressions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="92" />
      <source>Extent</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="330" />
      <source>Failed after {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="84" />
      <source>Fill tiles that fail after their retries with nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="36" />
      <source>Fix them (make valid)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="23" />
      <source>Flat</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="38" />
      <source>Float32 (decimals)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="39" />
      <source>Float64 (double precision)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="34" />
      <location filename="../raster_tasks/request.py" line="27" />
      <source>Format</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="88" />
      <source>From zoom</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="66" />
      <source>Functions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="30" />
      <source>GeoPackage</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="47" />
      <source>GeoPackage (*.gpkg);;ESRI Shapefile (*.shp);;GeoJSON (*.geojson)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="37" />
      <source>GeoPackage tiles (as served, every zoom)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="33" />
      <source>GeoTIFF</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="70" />
      <source>GeoTIFF (*.tif *.tiff)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="28" />
      <source>GeoTIFF (tiled)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="35" />
      <source>GeoTIFF mosaic</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="113" />
      <source>Help</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="42" />
      <source>Imagery (RGBA)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="56" />
      <source>Input layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="80" />
      <source>Input rasters (A, B, C…)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="120" />
      <source>Input {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="81" />
      <location filename="../ui/forms/calc_palette.py" line="64" />
      <source>Inputs</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="41" />
      <source>Inputs on different grids</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="42" />
      <source>Inputs share a grid (refuse different grids)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="81" />
      <location filename="../ui/forms/calc_palette.py" line="61" />
      <source>Insert</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="35" />
      <source>Int16 (−32,768…32,767)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="37" />
      <source>Int32</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="35" />
      <source>Invalid geometries</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="26" />
      <source>Join style</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="153" />
      <source>Largest file (bytes)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="49" />
      <source>Largest growth while buffering one geometry (MB)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="55" />
      <source>Largest output grid (pixels)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="57" />
      <source>Largest tile body (bytes, once inflated)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="50" />
      <source>Layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="107" />
      <source>Leave failing tiles empty</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="148" />
      <source>Load as</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="130" />
      <source>Log</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="38" />
      <source>MBTiles (as served, every zoom)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="60" />
      <source>Max tiles</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="33" />
      <source>Meters (also on a geographic layer)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="43" />
      <source>Meters: buffer a geographic layer in metres, not degrees</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="30" />
      <source>Min zoom (empty: only Zoom)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="28" />
      <source>Miter</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="47" />
      <source>Miter limit</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="82" />
      <source>Names for the inputs, comma-separated</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="41" />
      <source>Network</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="220" />
      <source>Not run: {name} already exists</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="118" />
      <source>Off (the default): an existing output is replaced, as every Processing algorithm replaces its outputs; a GeoPackage that also holds other layers or tables is refused, never replaced. On: an existing GeoPackage or MBTiles package of the same kind and tile size is added to in place, fetching only the tiles it lacks (to finish a canceled run, or add zoom levels or area); it keeps its name and metadata, and a run that fails keeps what it held. A package whose tiles came from another server is refused, so that no package mixes two sources' tiles. A GeoTIFF or COG is always replaced.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/help.py" line="38" />
      <source>Offload help: {task}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="105" />
      <source>Offload: background tasks</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="78" />
      <source>Offload: run heavy work in the background; progress, cancel and errors of its tasks</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="77" />
      <source>Offload…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="34" />
      <source>One file over HTTP(S), streamed, checked and resumed after an interruption; loaded as a layer if you say it is one.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="53" />
      <source>Only where</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="65" />
      <source>Operators</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="31" />
      <source>Optional: a field or an expression giving each feature's distance (where it is null, the Distance above)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="35" />
      <source>Optional: buffer only the features for which this expression is true</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="100" />
      <location filename="../ui/forms/buffer_form.py" line="57" />
      <location filename="../ui/forms/calc_form.py" line="82" />
      <location filename="../ui/forms/download_form.py" line="28" />
      <location filename="../ui/forms/tiles_form.py" line="86" />
      <source>Output</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="128" />
      <source>Output (.tif, .gpkg, .mbtiles: its extension says the format)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="50" />
      <source>Output nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="31" />
      <source>Output type</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="100" />
      <source>Progress</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/connections.py" line="185" />
      <source>Project layer: {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="43" />
      <source>QGIS's XYZ Tiles connections (Browser) and the XYZ layers of the project: their referer, HTTP headers, authentication and zoom levels go with the request</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="312" />
      <source>Queued</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="47" />
      <location filename="../ui/catalog.py" line="41" />
      <source>Raster</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="23" />
      <source>Raster calculator</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="44" />
      <source>Raster calculator (block-wise, all cores)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="94" />
      <source>Refuse an output that may not fit the free disk space (uncompressed)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="64" />
      <source>Remove last</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="52" />
      <source>Replace the file?</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="46" />
      <source>Resolution when aligning</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="91" />
      <source>Result:</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="52" />
      <source>Retries per tile</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="22" />
      <location filename="../vector_tasks/request.py" line="27" />
      <source>Round</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="122" />
      <source>Run</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="93" />
      <source>Running: {progress}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="28" />
      <source>SHA-256</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="62" />
      <source>Seconds a cached tile stays fresh</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="54" />
      <source>Seconds one attempt at a tile may take</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="45" />
      <source>Segments</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="25" />
      <source>Selected features only</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="37" />
      <source>Skip them</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="89" />
      <location filename="../ui/forms/tiles_form.py" line="85" />
      <source>Source</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="24" />
      <source>Square</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="235" />
      <source>Started: {task}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="314" />
      <source>Starting</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="100" />
      <source>Status</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="38" />
      <source>Stop with an error</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="105" />
      <source>Subdomains for {{s}}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="100" />
      <source>Task</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="129" />
      <source>Tasks</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="44" />
      <source>Terrain-RGB elevation → Float32 DEM</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="43" />
      <source>Terrarium elevation → Float32 DEM</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="29" />
      <source>The XYZ tiles over an area, from a URL or one of QGIS's XYZ sources: a GeoTIFF mosaic (RGBA imagery, or a Float32 DEM from Terrarium or Terrain-RGB tiles), or a GeoPackage or MBTiles of the tiles as served; cached, retried politely, resumed after a cancel.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="48" />
      <source>The coarsest of the inputs</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="71" />
      <source>The coarsest zoom: a package holds every level from here to Zoom; a GeoTIFF takes them as its overviews</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="47" />
      <source>The finest of the inputs</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="65" />
      <source>The finest zoom: the GeoTIFF's resolution, a package's most detailed level</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/request.py" line="32" />
      <source>The layer's units</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="32" />
      <source>The widest type of the inputs the expression uses</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="53" />
      <source>Threads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="90" />
      <source>Tile URL template (or a connection's name)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="110" />
      <source>Tile cache folder</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="68" />
      <source>Tile cache size (MB)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="46" />
      <source>Tile size (pixels)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="81" />
      <source>Tiles are kept for reruns, one cache per tile source. Past this size on disk, the end of a completed run drops the least recently stored tiles of earlier runs</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="155" />
      <source>Timeout (seconds without a KiB)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="34" />
      <source>UInt16 (0…65,535)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/request.py" line="36" />
      <source>UInt32</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="278" />
      <location filename="../ui/forms/download_form.py" line="28" />
      <source>URL</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="85" />
      <source>URL template</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="41" />
      <location filename="../vector_tasks/algorithms.py" line="42" />
      <source>Vector</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="54" />
      <location filename="../net_tasks/algorithms.py" line="256" />
      <source>Web</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="61" />
      <source>What it does</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/connections.py" line="186" />
      <source>XYZ connection: {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/request.py" line="27" />
      <source>Zoom</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/base.py" line="130" />
      <source>[Save to temporary file]</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="48" />
      <source>[a memory layer]</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="261" />
      <source>a local path</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="318" />
      <source>about {time} left</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="21" />
      <source>add</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="78" />
      <source>all cores</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="39" />
      <source>aspect(A): direction of steepest descent, degrees clockwise from north</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="25" />
      <source>bitwise and (combine conditions in brackets: (A &gt; 0) &amp; (B &lt; 5))</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="26" />
      <source>bitwise exclusive or</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="26" />
      <source>bitwise not</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="25" />
      <source>bitwise or</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="102" />
      <source>choose a layer first</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="113" />
      <source>choose a vector layer to buffer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="266" />
      <source>choose an area: the map canvas extent, a layer's, or type one</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="35" />
      <source>clip(x, low, high): x limited to low..high</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="145" />
      <source>constants</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="21" />
      <source>divide (always a float)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="22" />
      <source>divide, rounded down</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="24" />
      <source>equal</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="43" />
      <source>focal_max(A, size): maximum over a size × size window</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="41" />
      <source>focal_mean(A, size): mean over a size × size window (odd size)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="42" />
      <source>focal_min(A, size): minimum over a size × size window</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="23" />
      <source>greater than</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="24" />
      <source>greater than or equal</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="40" />
      <source>hillshade(A[, azimuth, altitude]): shaded relief, 1..255 (default 315°, 45°)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="156" />
      <source>input {number} has no raster layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="23" />
      <source>less than or equal</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="23" />
      <source>less than: 1 or 0</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="27" />
      <source>logical and</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="27" />
      <source>logical not</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="27" />
      <source>logical or</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="21" />
      <source>multiply</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="37" />
      <source>nan_to_num(x): NaN to 0, infinities to the type's largest values</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="37" />
      <source>native:buffer's results, off the main thread: fixed or per-feature distances, metres on geographic layers, invalid geometries fixed; into a file or a memory layer.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="119" />
      <source>no layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="426" />
      <source>no reason given</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="161" />
      <source>nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="24" />
      <source>not equal</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="24" />
      <source>numpy expressions over named rasters, as gdal_calc.py users write them, plus slope(), aspect(), hillshade() and focal_mean/min/max(); block by block on all cores, never the whole raster in memory.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="68" />
      <source>only the zoom above</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="26" />
      <source>optional: the SHA-256 the file must have</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="22" />
      <source>power</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="22" />
      <source>remainder</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="36" />
      <source>round(x[, decimals]): rounded to the given decimals</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="38" />
      <source>slope(A): slope in degrees, from the 3×3 neighbourhood (Horn)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/chain.py" line="70" />
      <source>starting</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/chain.py" line="69" />
      <source>step {number} of {count}: {status}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="21" />
      <source>subtract</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="67" />
      <source>the constant {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="103" />
      <source>the input raster named {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="74" />
      <source>the type's default</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="259" />
      <source>type an XYZ URL template with {{z}}, {{x}} and {{y}}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="139" />
      <source>type an expression, e.g. (A - B) / (A + B)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="40" />
      <source>type the URL to download</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="34" />
      <source>where(condition, a, b): a where the condition holds, b elsewhere</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="144" />
      <source>{count} bands</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="118" />
      <source>{layer} (band {band})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="53" />
      <source>{name} already exists in {folder}. Replace it?</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="316" />
      <source>{rate} {unit}/s</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="340" />
      <source>{task} — {progress}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="424" />
      <source>{task}: canceled after {time}; nothing partial was left</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="422" />
      <source>{task}: done in {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="421" />
      <source>{task}: done in {time}: {summary}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="427" />
      <source>{task}: failed after {time}: {error}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="428" />
      <source>{task}: running</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="462" />
      <source>{task}: {error}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="319" />
      <source>{time} elapsed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/base.py" line="150" />
      <source>{what} {text!r} is not a number</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="83" />
      <source>⚠ The layer's CRS is geographic: the distance is in degrees. Choose Meters under Units, or reproject the layer, for accurate results.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="104" />
      <source>✓ valid</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="261" />
      <source>✓ valid template on {host}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="145" />
      <source>✓ valid: {bands} from {names}</source>
      <translation type="unfinished" />
    </message>
  </context>
</TS>
