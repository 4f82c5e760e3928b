<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" sourcelanguage="en">
  <context>
    <name>Offload</name>
    <message>
      <location filename="../ui/forms/calc_form.py" line="55" />
      <source>(A - B) / (A + B)   — one expression per output band</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="143" />
      <source>1 band</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="42" />
      <source>A file (not loaded)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="42" />
      <source>A raster layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="42" />
      <source>A vector layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="63" />
      <source>Add input</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="25" />
      <source>Align on the area all inputs cover</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="26" />
      <source>Align on the area any input covers</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="23" />
      <source>All files (*)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="26" />
      <source>Area</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="54" />
      <source>Area CRS</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="71" />
      <source>Band of each input, comma-separated</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="50" />
      <source>Bevel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="35" />
      <source>Buffer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="39" />
      <source>Buffer (all cores)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="62" />
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
      <source>Buffers features with native:buffer's parameters and results, in parallel chunks. Geographic layers can be buffered in metres; invalid geometries are fixed, skipped or fail the run. The input must be a file-based layer.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="30" />
      <source>Byte (0…255)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="121" />
      <source>Cancel</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="298" />
      <source>Canceled after {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="51" />
      <source>Clip the mosaic to the area (not whole tiles)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="64" />
      <source>Clip to the extent</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="125" />
      <source>Close</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="20" />
      <source>Cloud Optimized GeoTIFF</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="52" />
      <source>Computes numpy-style expressions over rasters, window by window on all cores, never holding a whole raster in memory. Inputs are named A, B, C… in order (or by Names). One expression per line gives one band each. Functions: where sqrt exp log log10 abs sin cos tan arctan2 floor ceil round minimum maximum clip isnan nan_to_num logical_and/or/not …, and neighbourhood functions slope(A), aspect(A), hillshade(A, azimuth, altitude), focal_mean/min/max(A, size) with no seams. Output is nodata where an input the expression uses is nodata. Nothing typed is ever eval'ed.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="46" />
      <source>Concurrent connections: tile servers' usage policies ask for few</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="61" />
      <location filename="../ui/forms/tiles_form.py" line="56" />
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
      <location filename="../raster_tasks/algorithms.py" line="81" />
      <source>Creation options (KEY=VALUE, space-separated)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="55" />
      <source>Decode</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="60" />
      <source>Decode elevation</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="83" />
      <source>Different grids</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="72" />
      <source>Dissolve result</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="48" />
      <source>Dissolve the result into one feature</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="56" />
      <location filename="../vector_tasks/algorithms.py" line="58" />
      <source>Distance</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="65" />
      <source>Distance field (instead)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="58" />
      <source>Distance per feature</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="73" />
      <source>Distance units</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="296" />
      <source>Done in {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="32" />
      <source>Download a file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="28" />
      <source>Download tiles (XYZ)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="36" />
      <source>Download tiles to GeoTIFF</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="45" />
      <source>Downloads the XYZ tiles an extent touches at one zoom and mosaics them into a georeferenced GeoTIFF (EPSG:3857, on the tile grid). Templates take {{z}} {{x}} {{y}}, {{-y}} (TMS), {{q}} (quadkey), {{s}}. Polite by default: few connections, retries honouring Retry-After, a 7-day cache, a User-Agent naming Offload, and tile.openstreetmap.org capped at 5,000 tiles as its usage policy asks. Elevation tiles (Terrarium, Terrain-RGB) decode into a Float32 DEM.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="60" />
      <source>End cap</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="68" />
      <source>End cap style</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="65" />
      <source>Expression (one per line)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="79" />
      <source>Expressions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="58" />
      <source>Extent</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="300" />
      <source>Failed after {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="52" />
      <source>Fill tiles that fail after their retries with nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="58" />
      <source>Fix them (make valid)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="46" />
      <source>Flat</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="32" />
      <source>Float32 (decimals)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="33" />
      <source>Float64 (double precision)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="80" />
      <location filename="../ui/forms/calc_form.py" line="81" />
      <source>Format</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="66" />
      <source>Functions</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="54" />
      <source>GeoPackage (*.gpkg);;ESRI Shapefile (*.shp);;GeoJSON (*.geojson)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="69" />
      <location filename="../ui/forms/tiles_form.py" line="53" />
      <source>GeoTIFF (*.tif *.tiff)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="20" />
      <source>GeoTIFF (tiled)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="113" />
      <source>Help</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="37" />
      <source>Imagery (RGBA)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="56" />
      <source>Input layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="67" />
      <source>Input rasters (A, B, C…)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="119" />
      <source>Input {name}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="80" />
      <location filename="../ui/forms/calc_palette.py" line="64" />
      <source>Inputs</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="73" />
      <source>Inputs on different grids</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="24" />
      <source>Inputs share a grid (refuse different grids)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="80" />
      <location filename="../ui/forms/calc_palette.py" line="61" />
      <source>Insert</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="31" />
      <source>Int16 (−32,768…32,767)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="32" />
      <source>Int32</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="62" />
      <location filename="../vector_tasks/algorithms.py" line="74" />
      <source>Invalid geometries</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="60" />
      <source>Join</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../vector_tasks/algorithms.py" line="69" />
      <source>Join style</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="56" />
      <source>Layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="65" />
      <source>Leave failing tiles empty</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="28" />
      <source>Load as</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="130" />
      <source>Log</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="56" />
      <source>Max tiles</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="54" />
      <source>Meters (also on a geographic layer)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="50" />
      <source>Meters: buffer a geographic layer in metres, not degrees</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="50" />
      <source>Miter</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="61" />
      <location filename="../vector_tasks/algorithms.py" line="70" />
      <source>Miter limit</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="71" />
      <source>Mosaic</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="67" />
      <source>Most tiles</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="69" />
      <source>Names for the inputs, comma-separated</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="40" />
      <source>Network</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="82" />
      <source>Nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="220" />
      <source>Not run: {name} already exists</source>
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
      <location filename="../plugin.py" line="77" />
      <source>Offload: run heavy work in the background; progress, cancel and errors of its tasks</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../plugin.py" line="76" />
      <source>Offload…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="33" />
      <source>One file over HTTP(S), streamed, checked and resumed after an interruption; loaded as a layer if you say it is one.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="59" />
      <source>Only where</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="65" />
      <source>Operators</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="32" />
      <source>Optional: a field or an expression giving each feature's distance (where it is null, the Distance above)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="36" />
      <source>Optional: buffer only the features for which this expression is true</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="83" />
      <location filename="../ui/forms/buffer_form.py" line="62" />
      <location filename="../ui/forms/calc_form.py" line="81" />
      <location filename="../ui/forms/download_form.py" line="27" />
      <location filename="../ui/forms/tiles_form.py" line="57" />
      <source>Output</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="78" />
      <source>Output nodata</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="77" />
      <location filename="../ui/forms/calc_form.py" line="82" />
      <source>Output type</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="100" />
      <source>Progress</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="282" />
      <source>Queued</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="46" />
      <location filename="../ui/catalog.py" line="40" />
      <source>Raster</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="23" />
      <source>Raster calculator</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="43" />
      <source>Raster calculator (block-wise, all cores)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="63" />
      <source>Remove last</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="52" />
      <source>Replace the file?</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../raster_tasks/algorithms.py" line="75" />
      <source>Resolution when aligning</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="91" />
      <source>Result:</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="46" />
      <location filename="../ui/choices.py" line="50" />
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
      <location filename="../ui/forms/download_form.py" line="27" />
      <source>SHA-256</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="60" />
      <location filename="../vector_tasks/algorithms.py" line="67" />
      <source>Segments</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="23" />
      <source>Selected features only</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="58" />
      <source>Skip them</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="46" />
      <source>Square</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="235" />
      <source>Started: {task}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="284" />
      <source>Starting</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/task_list.py" line="100" />
      <source>Status</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="58" />
      <source>Stop with an error</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="63" />
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
      <location filename="../ui/choices.py" line="38" />
      <source>Terrain-RGB elevation → Float32 DEM</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="37" />
      <source>Terrarium elevation → Float32 DEM</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="29" />
      <source>The XYZ tiles over an area, mosaicked into a GeoTIFF (RGBA imagery, or a Float32 DEM from Terrarium or Terrain-RGB tiles); cached, retried politely, resumed after a cancel.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="30" />
      <source>The inputs' widest type</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="54" />
      <source>The layer's units</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="83" />
      <source>Threads</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="57" />
      <source>Tile URL template</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="69" />
      <source>Tile cache folder</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="31" />
      <source>UInt16 (0…65,535)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/choices.py" line="32" />
      <source>UInt32</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/download_form.py" line="27" />
      <source>URL</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="54" />
      <source>URL template</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="61" />
      <source>Units</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/catalog.py" line="40" />
      <location filename="../vector_tasks/algorithms.py" line="42" />
      <source>Vector</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="39" />
      <source>Web</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="61" />
      <source>What it does</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../net_tasks/algorithms.py" line="59" />
      <location filename="../ui/forms/tiles_form.py" line="55" />
      <source>Zoom</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/base.py" line="130" />
      <source>[Save to temporary file]</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="55" />
      <source>[a memory layer]</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="76" />
      <source>a local path</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="288" />
      <source>about {time} left</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="21" />
      <source>add</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="77" />
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
      <location filename="../ui/forms/buffer_form.py" line="107" />
      <source>choose a layer first</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="119" />
      <source>choose a vector layer to buffer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="81" />
      <source>choose an area: the map canvas extent, a layer's, or type one</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_palette.py" line="35" />
      <source>clip(x, low, high): x limited to low..high</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="144" />
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
      <location filename="../ui/forms/calc_form.py" line="155" />
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
      <location filename="../ui/catalog.py" line="36" />
      <source>native:buffer's results, off the main thread: fixed or per-feature distances, metres on geographic layers, invalid geometries fixed; into a file or a memory layer.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="118" />
      <source>no layer</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="394" />
      <source>no reason given</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="160" />
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
      <location filename="../ui/forms/download_form.py" line="25" />
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
      <location filename="../ui/forms/calc_form.py" line="73" />
      <source>the type's default</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="74" />
      <source>type an XYZ URL template with {{z}}, {{x}} and {{y}}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="138" />
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
      <location filename="../ui/forms/calc_form.py" line="143" />
      <source>{count} bands</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="117" />
      <source>{layer} (band {band})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/dialog.py" line="53" />
      <source>{name} already exists in {folder}. Replace it?</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="286" />
      <source>{rate} {unit}/s</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="310" />
      <source>{task} — {progress}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="392" />
      <source>{task}: canceled after {time}; nothing partial was left</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="390" />
      <source>{task}: done in {time}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="395" />
      <source>{task}: failed after {time}: {error}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="396" />
      <source>{task}: running</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="430" />
      <source>{task}: {error}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../core/task.py" line="289" />
      <source>{time} elapsed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/base.py" line="150" />
      <source>{what} {text!r} is not a number</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="88" />
      <source>⚠ The layer's CRS is geographic: the distance is in degrees. Choose Meters under Units, or reproject the layer, for accurate results.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/buffer_form.py" line="109" />
      <source>✓ valid</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/tiles_form.py" line="76" />
      <source>✓ valid template on {host}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../ui/forms/calc_form.py" line="144" />
      <source>✓ valid: {bands} from {names}</source>
      <translation type="unfinished" />
    </message>
  </context>
</TS>
