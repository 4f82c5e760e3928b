"""The run's log: the same run as a command line and as a processing.run call (the requests need QGIS)."""
from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from offload.net_tasks.request import FileRequest, TileRequest
from offload.raster_tasks.request import CalcInput, CalcRequest
from offload.ui.run_log import command_line, processing_call, run_log
from offload.vector_tasks.request import BufferRequest


def test_calc_command_line_quotes_what_a_shell_would_split():
    inputs = (CalcInput("A", "/d/nir band.tif", 1), CalcInput("B", "/d/red.tif", 2))
    request = CalcRequest(("(A - B) / (A + B)",), inputs,
                          Path("/out/nd vi.tif"), output_type="Float32", nodata=-9999.0, overwrite=True)
    line = command_line(request)
    assert shlex.split(line) == ["python3", "-m", "offload", "calc", "--expr", "(A - B) / (A + B)", "--input",
                                 "A=/d/nir band.tif", "--input", "B=/d/red.tif@2", "--output", "/out/nd vi.tif",
                                 "--type", "Float32", "--nodata", "-9999", "--overwrite"]
    call = processing_call(request)
    assert call.startswith("processing.run('offload:calc', {") and "'NAMES': 'A,B'" in call
    assert "'BANDS': '1,2'" in call and "'TYPE': 6" in call and "'NODATA': -9999" in call


def test_tiles_and_download_leave_defaults_out():
    tiles = TileRequest("http://h/{z}/{x}/{y}.png", (6.9, 45.9, 7.3, 46.2), 12, Path("/o/t.tif"), workers=1,
                        decode="terrarium")
    assert shlex.split(command_line(tiles))[3:] == ["tiles", "--url", "http://h/{z}/{x}/{y}.png", "--bbox",
                                                    "6.9,45.9,7.3,46.2", "--zoom", "12", "--output", "/o/t.tif",
                                                    "--workers", "1", "--decode", "terrarium"]
    assert "'EXTENT': '6.9,7.3,45.9,46.2 [EPSG:4326]'" in processing_call(tiles)
    download = FileRequest("http://h/f.bin", Path("/o/f.bin"), sha256="ab" * 32)
    assert shlex.split(command_line(download))[3:] == ["download", "--url", "http://h/f.bin", "--output",
                                                       "/o/f.bin", "--sha256", "ab" * 32]


def test_a_memory_buffer_says_what_the_command_line_and_processing_cannot():
    request = BufferRequest("/d/sites.gpkg|layername=sites", None, distance=25.0, end_cap="flat",
                            where='"kind" = 2', selected_only=True)
    log = run_log("Buffer sites → memory layer", [("Distance", "25.000000 meters")], request)
    assert "  Distance: 25.000000 meters" in log
    assert "--output /d/buffered.gpkg --distance 25 --cap flat --where '\"kind\" = 2'" in log
    assert "# the command line writes files" in log and "# the command line has no selection" in log
    assert "'OUTPUT': 'TEMPORARY_OUTPUT'" in log and "'END_CAP_STYLE': 1" in log
    assert "# offload:buffer has no filter" in log and "selectedFeaturesOnly=True" in log


def test_a_buffer_of_a_live_layer_names_the_layers_source(tmp_path):
    from qgis.core import QgsVectorLayer
    from vector_data import make_layer

    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    layer = QgsVectorLayer(spec, "in", "ogr")
    request = BufferRequest(layer, tmp_path / "out.gpkg", join="bevel", invalid="skip", max_memory_mb=512)
    args = shlex.split(command_line(request))[3:]
    assert args[:3] == ["buffer", "--input", layer.source()]
    assert args[args.index("--join") + 1] == "bevel" and args[args.index("--invalid") + 1] == "skip"
    assert args[args.index("--max-memory-mb") + 1] == "512"
    call = processing_call(request)
    assert f"'INPUT': {layer.source()!r}" in call and "'JOIN_STYLE': 2" in call and "'INVALID': 1" in call


def test_secrets_in_urls_read_redacted_and_the_template_still_runs():
    secret = "s3cr3t-t0ken-value"
    tiles = TileRequest(f"https://ann:{secret}@h/{{z}}/{{x}}/{{y}}.png?access_token={secret}&x={{x}}",
                        (6.9, 45.9, 7.3, 46.2), 12, Path("/o/t.tif"))
    log = run_log("Tiles → t.tif", [("URL template", tiles.template), ("Zoom", "12")], tiles)
    assert secret not in log
    args = shlex.split(command_line(tiles))
    assert args[args.index("--url") + 1] == "https://ann:<redacted>@h/{z}/{x}/{y}.png?access_token=<redacted>&x={x}"
    assert "  URL template: https://ann:<redacted>@h/" in log and "'URL': 'https://ann:<redacted>@h/" in log
    assert "# secrets in the URL read <redacted>: put yours back to run it" in log
    download = FileRequest(f"http://h/f.bin?sig={secret}", Path("/o/f.bin"))
    assert secret not in command_line(download) + processing_call(download)


def test_a_package_of_a_zoom_range_with_headers_shows_them_without_their_secrets():
    secret = "Basic YW5uOmh1bnRlcjI="
    tiles = TileRequest("http://h/{z}/{x}/{y}.png", (6.9, 45.9, 7.3, 46.2), 14, Path("/o/t.gpkg"), zoom_min=10,
                        format="MBTiles", headers=(("Referer", "https://maps.example.org/"), ("Authorization", secret)))
    args = shlex.split(command_line(tiles))
    assert args[args.index("--zoom") + 1] == "10-14" and args[args.index("--format") + 1] == "MBTiles"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--header"] == [
        "Referer: https://maps.example.org/", "Authorization: <redacted>"]
    log = run_log("Tiles → t.gpkg", [], tiles)
    assert secret not in log and "'MIN_ZOOM': 10" in log and "'FORMAT': 3" in log
    assert "# header values read <redacted>" in log and "# offload:tiles sends no extra headers" in log
    # Processing replaces an existing output unless told to add to it, as the command line does without --overwrite
    assert "'RESUME': True" in log and "'RESUME'" not in processing_call(replace(tiles, overwrite=True))
