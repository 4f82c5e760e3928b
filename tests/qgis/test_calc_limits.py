"""The raster calculator against hostile or careless input (issue 14): every case through a
front door a user takes (the CLI, the API, Processing), each refused before any work with one
line naming the bad value and how to do otherwise, or computed as gdal_calc.py would."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

from offload import api
from offload.core.errors import InputError
from qgis_helpers import leftovers, read_raster, wait_until, write_raster

GDAL_CALC = shutil.which("gdal_calc.py")


def offload_calc(env, *args, timeout=120):
    """Run ``python -m offload calc ARGS``; return (exit code, stderr lines without Qt's noise)."""
    done = subprocess.run([sys.executable, "-m", "offload", "calc", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    return done.returncode, [line for line in done.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line]


def refused(env, tmp_path, *args) -> str:
    """The one line the CLI prints when it refuses ``args`` (exit 2, nothing written)."""
    out = tmp_path / "refused.tif"
    code, lines = offload_calc(env, *args, "--output", out)
    assert code == 2 and len(lines) == 1, lines
    assert not out.exists() and not leftovers(tmp_path)
    return lines[0]


@pytest.fixture
def small(tmp_path):
    return write_raster(tmp_path / "a.tif", np.arange(1, 1 + 40 * 50, dtype=np.float32).reshape(40, 50), nodata=-1)


@pytest.mark.skipif(GDAL_CALC is None, reason="gdal_calc.py is part of Debian's python3-gdal")
def test_an_input_without_nodata_keeps_its_255s_when_aligned(tmp_path, subprocess_env):
    """Defect 5: aligning gave a Byte input without nodata the nodata 255, so its real 255s vanished."""
    a_values = np.full((40, 50), 255, np.uint8)
    a_values[::3] = 7
    a = write_raster(tmp_path / "a.tif", a_values)  # no nodata
    b = write_raster(tmp_path / "b.tif", np.full((30, 45), 2, np.uint8),
                     geotransform=(1100.0, 10.0, 0.0, 1900.0, 0.0, -10.0))
    theirs, ours = tmp_path / "theirs.tif", tmp_path / "ours.tif"
    subprocess.run([sys.executable, GDAL_CALC, "-A", str(a), "-B", str(b), "--calc=A*1.0*B", f"--outfile={theirs}",
                    "--extent=intersect", "--type=Int16", "--quiet"], check=True, capture_output=True)
    code, lines = offload_calc(subprocess_env, "--input", f"A={a}", "--input", f"B={b}", "--expr", "A*1.0*B",
                               "--extent", "intersect", "--type", "Int16", "--output", ours)
    assert code == 0, lines
    (our_values, _), (their_values, _) = read_raster(ours), read_raster(theirs)
    assert (our_values == 510).sum() > 500  # 255 × 2: the 255s are values
    np.testing.assert_array_equal(our_values, their_values)


def test_where_an_input_without_nodata_does_not_reach_the_output_is_nodata(tmp_path):
    a = write_raster(tmp_path / "a.tif", np.full((40, 50), 255, np.uint8))
    b = write_raster(tmp_path / "b.tif", np.full((30, 45), 2, np.uint8),
                     geotransform=(1100.0, 10.0, 0.0, 1900.0, 0.0, -10.0))
    handle = api.calc("A * 1.0 + B", {"A": a, "B": b}, tmp_path / "u.tif", extent="union", output_type="Int16",
                      nodata=-1)
    assert handle.wait(60), handle.error
    values, nodata = read_raster(tmp_path / "u.tif")
    assert nodata == -1 and set(np.unique(values)) == {-1, 257}
    assert (values == 257).sum() == 30 * 40  # B (45 wide) starts 10 columns in: 40 of its columns overlap A


def far_apart(tmp_path, size=20):
    """Two 1 m rasters whose union spans 1,000 km."""
    a = write_raster(tmp_path / "a.tif", np.ones((size, size), np.float32), epsg=32632,
                     geotransform=(500_000.0, 1.0, 0.0, 6_000_000.0, 0.0, -1.0), nodata=-1)
    b = write_raster(tmp_path / "b.tif", np.ones((size, size), np.float32), epsg=32632,
                     geotransform=(1_500_000.0, 1.0, 0.0, 5_000_000.0, 0.0, -1.0), nodata=-1)
    return a, b


def test_a_huge_output_grid_is_refused_naming_the_limit(tmp_path, subprocess_env):
    """Defect 6: a union of two 1 m rasters 1,000 km apart (10¹² pixels) was accepted."""
    a, b = far_apart(tmp_path)
    started = time.monotonic()
    line = refused(subprocess_env, tmp_path, "--input", f"A={a}", "--input", f"B={b}", "--expr", "A + B",
                   "--extent", "union")
    assert "1,000,020×1,000,020 = 1,000,040,000,400 pixels, over the limit of 10,000,000,000" in line
    assert "--max-pixels" in line
    assert time.monotonic() - started < 30


def test_the_pixel_limit_can_be_lowered_and_raised(tmp_path, small):
    with pytest.raises(InputError, match="50×40 = 2,000 pixels, over the limit of 1,999"):
        api.calc("A * 2", {"A": small}, tmp_path / "o.tif", max_pixels=1999)
    handle = api.calc("A * 2", {"A": small}, tmp_path / "o.tif", max_pixels=2000)
    assert handle.wait(60), handle.error


def test_an_output_that_may_not_fit_the_free_disk_is_refused(tmp_path, small, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10_000, 9_000, 1_000))
    with pytest.raises(InputError, match=r"may need 0\.0 GB .* has 0\.0 GB free; .*check_free_space=False"):
        api.calc("A * 2", {"A": small}, tmp_path / "o.tif")  # 2,000 Float32 pixels: 8,000 bytes
    assert not leftovers(tmp_path) and not (tmp_path / "o.tif").exists()
    handle = api.calc("A * 2", {"A": small}, tmp_path / "o.tif", check_free_space=False)
    assert handle.wait(60), handle.error


def test_cancel_does_not_let_gdal_fill_the_rest_of_the_output(tmp_path):
    """Defect 6: after a cancel, closing the output made GDAL write every tile not yet written."""
    a, b = far_apart(tmp_path, size=256)
    # 1 km apart at 1 m in both directions: a 20,000² union, 1.6 GB of Float32 left to fill.
    write_raster(b, np.ones((256, 256), np.float32), epsg=32632, nodata=-1,
                 geotransform=(519_744.0, 1.0, 0.0, 5_980_256.0, 0.0, -1.0))
    handle = api.calc("focal_mean(A, 15) + B", {"A": a, "B": b}, tmp_path / "o.tif", extent="union", threads=1,
                      creation_options=("COMPRESS=NONE",))
    wait_until(lambda: handle.task.fraction > 0.01, 60, "the first windows")
    canceled_at = time.monotonic()
    handle.cancel()
    wait_until(lambda: handle.done, 30, "the canceled task to finish")
    assert time.monotonic() - canceled_at < 10  # filling 1.6 GB would take far longer: a generous deadline
    assert not handle.ok and not leftovers(tmp_path) and not (tmp_path / "o.tif").exists()


def no_crs_raster(path: Path, origin_x: float) -> Path:
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 50, 40, 1, gdal.GDT_Float32)
    dataset.SetGeoTransform((origin_x, 1.0, 0.0, 100.0, 0.0, -1.0))
    dataset.GetRasterBand(1).WriteArray(np.full((40, 50), origin_x + 1, np.float32))
    dataset = None
    return path


def test_extent_with_an_input_without_crs_is_bad_input(tmp_path, subprocess_env, small):
    """Defect 13: --extent with inputs without a CRS ended in a TypeError from gdal.Warp."""
    bare = no_crs_raster(tmp_path / "bare.tif", 1000.0)
    line = refused(subprocess_env, tmp_path, "--input", f"A={small}", "--input", f"B={bare}", "--expr", "A + B",
                   "--extent", "intersect")
    assert "input B has no CRS and input A has one" in line


def test_inputs_that_all_lack_a_crs_align_in_their_shared_coordinates(tmp_path, subprocess_env):
    a, b = no_crs_raster(tmp_path / "a.tif", 0.0), no_crs_raster(tmp_path / "b.tif", 10.0)
    out = tmp_path / "out.tif"
    code, lines = offload_calc(subprocess_env, "--input", f"A={a}", "--input", f"B={b}", "--expr", "A + B",
                               "--extent", "intersect", "--output", out)
    assert code == 0, lines
    values, _ = read_raster(out)
    assert values.shape == (40, 40) and (values == 12).all()
    assert gdal.Open(str(out)).GetGeoTransform() == (10.0, 1.0, 0.0, 100.0, 0.0, -1.0)


@pytest.mark.parametrize("expression, message", [
    ("+".join(["A"] * 1001), "the expression has 1,001 terms (input names and numbers); the limit is 500"),
    ("A+" * 60_000 + "A", "the expression is 120,001 characters long; the limit is 10,000"),
    ("-" * 9_000 + "A", "the expression nests too deeply"),
])
def test_an_oversized_expression_is_bad_input(tmp_path, subprocess_env, small, expression, message):
    """Defect 13: these exited 1 with RecursionError or MemoryError."""
    assert message in refused(subprocess_env, tmp_path, "--input", f"A={small}", f"--expr={expression}")


@pytest.mark.parametrize("option, message", [
    ("BLOCKXSIZE=abc", "creation option 'BLOCKXSIZE=abc' is refused by GDAL's GTiff driver: 'abc' is an unexpected "
                       "value for BLOCKXSIZE creation option of type int"),
    ("COMPRESS=BOGUS", "creation option 'COMPRESS=BOGUS' is refused by GDAL's GTiff driver: 'BOGUS' is an unexpected "
                       "value for COMPRESS"),
    ("BLOCKXSIZE=100", "creation option 'BLOCKXSIZE=100' is refused"),
    ("NO_SUCH_OPTION=1", "driver GTiff does not support creation option NO_SUCH_OPTION"),
])
def test_a_bad_creation_option_is_bad_input(tmp_path, subprocess_env, small, option, message):
    """Defect 13: BLOCKXSIZE=abc exited 1 with ValueError and COMPRESS=BOGUS was silently ignored."""
    assert message in refused(subprocess_env, tmp_path, "--input", f"A={small}", "--expr", "A", "--co", option)



def test_a_bad_cog_option_is_refused_by_processing(tmp_path, small, offload_provider):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="'LEVEL=x' is refused by GDAL's COG driver"):
        processing.run("offload:calc", {"EXPRESSION": "A", "INPUTS": [str(small)], "FORMAT": 1,
                                        "CREATION_OPTIONS": "LEVEL=x", "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.parametrize("output_type", ["Byte", "Int16", "UInt32"])
def test_infinity_in_an_integer_output_is_nodata_and_counted_as_such(tmp_path, output_type):
    """Defect 13: +inf became the nodata value while STATISTICS_VALID_PERCENT said 100."""
    a = np.full((40, 50), 2.0, np.float32)
    a[:10] = 0.0  # 1 / 0 = +inf, a quarter of the pixels
    path = write_raster(tmp_path / "a.tif", a)
    handle = api.calc("1 / A + 3", {"A": path}, tmp_path / "o.tif", output_type=output_type)
    assert handle.wait(60), handle.error
    dataset = gdal.Open(str(tmp_path / "o.tif"))
    band = dataset.GetRasterBand(1)
    values, nodata = band.ReadAsArray(), band.GetNoDataValue()
    assert (values[:10] == nodata).all() and (values[10:] == 4).all()  # 3.5 rounds away from zero
    assert float(band.GetMetadataItem("STATISTICS_VALID_PERCENT")) == 75
    assert band.GetMetadataItem("STATISTICS_MAXIMUM") == "4"


def test_a_byte_nodata_out_of_range_is_refused_and_documented(tmp_path, subprocess_env, small):
    line = refused(subprocess_env, tmp_path, "--input", f"A={small}", "--expr", "A", "--type", "Byte",
                   "--nodata", "999")
    assert "nodata 999 does not fit the output type uint8" in line
    help_text = subprocess.run([sys.executable, "-m", "offload", "calc", "--help"], env=subprocess_env,
                               capture_output=True, text=True, timeout=60).stdout
    assert "Byte: a whole number 0 to 255" in " ".join(help_text.split())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "`--nodata 999` with `--type Byte` is refused" in readme


def test_the_default_type_is_the_widest_of_the_inputs_used_as_the_help_says(tmp_path, subprocess_env):
    byte = write_raster(tmp_path / "byte.tif", np.full((40, 50), 9, np.uint8))
    wide = write_raster(tmp_path / "wide.tif", np.full((40, 50), 0.5, np.float64))
    out = tmp_path / "out.tif"
    code, lines = offload_calc(subprocess_env, "--input", f"A={byte}", "--input", f"B={wide}", "--expr", "A * 2",
                               "--output", out)
    assert code == 0, lines
    assert read_raster(out)[0].dtype == np.uint8  # B is bound but not used: it does not widen the output
    help_text = subprocess.run([sys.executable, "-m", "offload", "calc", "--help"], env=subprocess_env,
                               capture_output=True, text=True, timeout=60).stdout
    assert "the widest type of the inputs the expression uses" in " ".join(help_text.split())


def test_a_cogs_staging_file_is_named_for_the_sweep_of_dead_runs(tmp_path, small, monkeypatch):
    """Issue 14, defect 7: the sweep removes a killed run's temp files by the owner in their
    names; the COG's staging file must carry it as the temporary output does."""
    import os

    from offload.core.outputs import temp_owner
    from offload.raster_tasks import gdal_io

    staged = []
    translate = gdal_io.translate_to_cog
    monkeypatch.setattr(gdal_io, "translate_to_cog",
                        lambda source, *args: staged.append(source) or translate(source, *args))
    handle = api.calc("A * 2", {"A": small}, tmp_path / "o.tif", format="COG")
    assert handle.wait(60), handle.error
    assert len(staged) == 1 and temp_owner(staged[0].name)[1] == os.getpid()
    assert not staged[0].exists() and not leftovers(tmp_path)


@pytest.mark.parametrize("options, stored", [((), False), (("SPARSE_OK=FALSE",), True)])
def test_wholly_nodata_tiles_are_left_out_unless_asked(tmp_path, options, stored):
    a = write_raster(tmp_path / "a.tif", np.ones((256, 256), np.float32), nodata=-1)
    b = write_raster(tmp_path / "b.tif", np.ones((256, 256), np.float32), nodata=-1,
                     geotransform=(1000.0 + 2560 * 2, 10.0, 0.0, 2000.0, 0.0, -10.0))
    handle = api.calc("A + B", {"A": a, "B": b}, tmp_path / "o.tif", extent="union", creation_options=options)
    assert handle.wait(60), handle.error
    dataset = gdal.Open(str(tmp_path / "o.tif"))
    band = dataset.GetRasterBand(1)
    assert (band.GetMetadataItem("BLOCK_OFFSET_1_0", "TIFF") is not None) is stored  # the empty middle tile
    assert (band.ReadAsArray() == np.float32(band.GetNoDataValue())).all()  # no pixel has both inputs


HOLDING_EXPRESSIONS = [  # review finding 3: each held the interpreter or memory for seconds to hours
    ("A + 7**2**24", "'7**2**24' is too large for any pixel type (more than 64 bits) at column 5"),
    ("A + 9**9**9", "'9**9**9' is too large for any pixel type"),
    ("A + 10.0**400", "'10.0**400' overflows (past float64's 1.8e308) at column 5"),
    ("focal_mean(A, 1e999)", "focal_mean() parameter inf is not a finite number at column 15"),
    ("focal_max(A, 40001)", "focal_max size 40001 is not an odd whole number from 1 to 1001"),
    ("focal_mean(A, 201)", "reach 100 pixels around each pixel, past the 50×40 grid"),
]


@pytest.mark.parametrize("expression, message", HOLDING_EXPRESSIONS)
def test_an_expression_that_would_hold_the_interpreter_is_bad_input(tmp_path, subprocess_env, small, expression,
                                                                    message):
    started = time.monotonic()
    assert message in refused(subprocess_env, tmp_path, "--input", f"A={small}", f"--expr={expression}")
    assert time.monotonic() - started < 60  # refused before any work, not after minutes of it


@pytest.mark.parametrize("expression, message", HOLDING_EXPRESSIONS)
def test_processing_refuses_an_expression_that_would_hold_the_interpreter(tmp_path, small, offload_provider,
                                                                          expression, message):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException) as raised:
        processing.run("offload:calc", {"EXPRESSION": expression, "INPUTS": [str(small)],
                                        "OUTPUT": str(tmp_path / "x.tif")})
    assert message in str(raised.value) and "Traceback" not in str(raised.value)
    assert not (tmp_path / "x.tif").exists()


@pytest.fixture
def int16(tmp_path):
    return write_raster(tmp_path / "i.tif", np.arange(1, 1 + 40 * 50, dtype=np.int16).reshape(40, 50), nodata=-1)


@pytest.mark.parametrize("expression, message", [
    # numpy refuses these for the type, as it would in gdal_calc.py: refused before the task starts
    ("A ** -1", "operator Pow cannot be computed on A: int16 (Integers to negative integer powers are not allowed.) "
                "at column 1"),
    ("A + ~B", "operator Invert cannot be computed on A: int16, B: float32 (ufunc 'invert' not supported"),
    ("round(B, 1.5) + A", "round() cannot be computed on A: int16, B: float32 ('float' object cannot be interpreted "
                          "as an integer) at column 1"),
])
def test_an_operation_numpy_refuses_for_the_input_types_is_bad_input(tmp_path, subprocess_env, small, int16,
                                                                      expression, message):
    """Review finding 11: these exited 1 after the task started."""
    assert message in refused(subprocess_env, tmp_path, "--input", f"A={int16}", "--input", f"B={small}",
                              f"--expr={expression}")


def test_the_same_operations_on_types_numpy_accepts_are_computed(tmp_path, small, int16):
    handle = api.calc(["A ** -1.0", "~A", "B ** -1"], {"A": int16, "B": small}, tmp_path / "o.tif")
    assert handle.wait(60), handle.error
    a = read_raster(int16)[0]
    np.testing.assert_allclose(read_raster(tmp_path / "o.tif", 1)[0][a != -1], (a ** -1.0)[a != -1], rtol=1e-6)


def test_a_float_nodata_out_of_the_output_types_range_is_refused(tmp_path, subprocess_env, small):
    """Review finding 11: 1e300 was accepted for a Float32 output and written as inf."""
    line = refused(subprocess_env, tmp_path, "--input", f"A={small}", "--expr", "A", "--nodata", "1e300")
    assert "nodata 1e+300 does not fit the output type float32 (largest 3.40282e+38)" in line


def test_the_float32_nodata_gdalinfo_prints_is_taken(tmp_path, small):
    """-3.4028235e+38, as gdalinfo prints -FLT_MAX, is a few ulps past it as a float64 (review)."""
    handle = api.calc("A * 2", {"A": small}, tmp_path / "o.tif", output_type="Float32", nodata=-3.4028235e+38)
    assert handle.wait(60), handle.error
    assert gdal.Open(str(tmp_path / "o.tif")).GetRasterBand(1).GetNoDataValue() == float(np.finfo(np.float32).min)


def test_a_nan_geotransform_is_bad_input(tmp_path, subprocess_env, small):
    """Review finding 11: with --extent it failed with a ValueError."""
    vrt = tmp_path / "nan.vrt"
    vrt.write_text('<VRTDataset rasterXSize="10" rasterYSize="10"><GeoTransform>nan,1,0,10,0,-1</GeoTransform>'
                   '<VRTRasterBand dataType="Float32" band="1"></VRTRasterBand></VRTDataset>')
    line = refused(subprocess_env, tmp_path, "--input", f"A={vrt}", "--input", f"B={small}", "--expr", "A + B",
                   "--extent", "union")
    assert f"input A='{vrt}' has a geotransform with NaN or infinite values" in line


@pytest.mark.parametrize("geotransform, message", [
    ((1000.0, 10.0, 0.0, 1600.0, 0.0, 10.0), "is south-up (positive y pixel size); warp it north-up first (gdalwarp"),
    ((1500.0, -10.0, 0.0, 2000.0, 0.0, -10.0), "runs east to west (negative x pixel size); warp it north-up first"),
])
@pytest.mark.parametrize("extent", ["union", "intersect", None])
def test_an_input_that_is_not_north_up_is_bad_input(tmp_path, subprocess_env, small, geotransform, message, extent):
    """Review finding 8: with --extent union this wrote a 10×1 or 1×10 grid of nodata and exited 0."""
    turned = write_raster(tmp_path / "turned.tif", np.ones((40, 50), np.float32), geotransform=geotransform)
    line = refused(subprocess_env, tmp_path, "--input", f"A={turned}", "--input", f"B={small}", "--expr", "A + B",
                   *(["--extent", extent] if extent else []))
    assert f"input A='{turned}' {message}" in line


def test_a_raster_without_georeferencing_is_computed_pixel_for_pixel_but_not_aligned(tmp_path, subprocess_env, small):
    plain = tmp_path / "plain.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(str(plain), 50, 40, 1, gdal.GDT_Float32)
    dataset.GetRasterBand(1).Fill(2)
    dataset = None
    handle = api.calc("A * 3", {"A": plain}, tmp_path / "o.tif")
    assert handle.wait(60), handle.error
    assert (read_raster(tmp_path / "o.tif")[0] == 6).all()
    line = refused(subprocess_env, tmp_path, "--input", f"A={plain}", "--input", f"B={small}", "--expr", "A + B",
                   "--extent", "union")
    assert "input A has no geotransform, so it cannot be aligned with other inputs" in line


def test_cancel_is_answered_inside_a_window_of_a_large_focal_function(tmp_path):
    """Review finding 3: focal_mean(A, 1001) takes seconds per window; cancel was polled only between windows."""
    from offload.core.control import Control
    from offload.core.errors import Canceled
    from offload.raster_tasks.calc import run_calc, validate_calc_request
    from offload.raster_tasks.request import CalcInput, CalcRequest

    source = write_raster(tmp_path / "a.tif", np.ones((300, 400), np.float32))  # one window
    plan = validate_calc_request(CalcRequest(("focal_mean(A, 301)",), (CalcInput("A", str(source)),),
                                             tmp_path / "o.tif", threads=1))
    polls = []

    def check_canceled():
        polls.append(1)
        if len(polls) == 3:
            raise Canceled("canceled")

    with pytest.raises(Canceled):
        run_calc(plan, tmp_path / "o.tif", Control(check_canceled=check_canceled))


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, small, offload_provider, subprocess_env,
                                                                  monkeypatch):
    """Processing always replaces its output: a calc written over its own input replaced it, as the
    CLI with --overwrite did; so did one written over the file a VRT input reads, or named with ~."""
    import processing
    from osgeo import gdal
    from qgis.core import QgsProcessingException

    refusal = "is input A's own file, or one it reads; write to another file"
    before = small.read_bytes()
    with pytest.raises(QgsProcessingException, match=refusal) as raised:
        processing.run("offload:calc", {"EXPRESSION": "A * 2", "INPUTS": [str(small)], "OUTPUT": str(small)})
    assert "Traceback" not in str(raised.value)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(QgsProcessingException, match=refusal):
        processing.run("offload:calc", {"EXPRESSION": "A * 2", "INPUTS": [str(small)], "OUTPUT": "~/a.tif"})
    vrt = tmp_path / "v.vrt"
    gdal.BuildVRT(str(vrt), [str(small)]).FlushCache()
    for source in (small, vrt):
        code, lines = offload_calc(subprocess_env, "--input", f"A={source}", "--expr=A * 2", "--output", small,
                                   "--overwrite")
        assert code == 2 and lines == [f"offload calc: output {str(small)!r} {refusal}"]
    assert small.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".xml") == ["a.tif", "v.vrt"]  # (GDAL's .aux.xml)


def one_strip(path: Path, values: np.ndarray) -> Path:
    """A GeoTIFF written as one DEFLATE strip, as older tools write them: one block of the whole raster
    (``values``: rows × cols, or bands × rows × cols, pixel-interleaved)."""
    bands = values if values.ndim == 3 else values[np.newaxis]
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), bands.shape[2], bands.shape[1], len(bands),
                                                   gdal.GDT_Float32, ["COMPRESS=DEFLATE", f"BLOCKYSIZE={bands.shape[1]}"])
    dataset.SetGeoTransform((1000.0, 10.0, 0.0, 2000.0, 0.0, -10.0))  # write_raster's grid and CRS
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    dataset.SetProjection(srs.ExportToWkt())
    for index, band in enumerate(bands, start=1):
        dataset.GetRasterBand(index).WriteArray(band)
    dataset = None
    assert gdal.Open(str(path)).GetRasterBand(1).GetBlockSize() == [bands.shape[2], bands.shape[1]]
    return path


def bytes_read() -> int:
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="bytes read are counted by Linux's /proc/self/io")
@pytest.mark.parametrize("strip_input", ["A", "B"])
def test_an_input_stored_as_one_strip_is_read_once_in_bounded_windows(tmp_path, strip_input):
    """A one-strip raster once made one window of the whole raster (12,000²: 1.3 GB, no progress,
    no cancel); as the second input, GDAL decompressed the whole strip again for every window."""
    from offload.raster_tasks import gdal_io
    from offload.raster_tasks.calc import run_calc, validate_calc_request
    from offload.raster_tasks.request import CalcInput, CalcRequest
    from offload.core.control import Control

    side = 2200  # 4.8 Mi pixels: over LARGE_BLOCK_PIXELS
    noise = np.random.default_rng(7).random((side, side), dtype=np.float32)  # DEFLATE barely shrinks it
    strip = one_strip(tmp_path / "strip.tif", noise)
    tiled = write_raster(tmp_path / "tiled.tif", np.full((side, side), 2, np.float32), block=256)
    a, b = (strip, tiled) if strip_input == "A" else (tiled, strip)
    plan = validate_calc_request(CalcRequest(("A * B",), (CalcInput("A", str(a)), CalcInput("B", str(b))),
                                             tmp_path / "out.tif", creation_options=("COMPRESS=NONE",)))
    cache_before, statuses = gdal.GetCacheMax(), []
    gdal.SetCacheMax(16 << 20)  # the CLI's: smaller than the strip, which the run must keep
    try:
        before = bytes_read()
        result = run_calc(plan, tmp_path / "out.tif", Control(report=lambda _f, status=None: statuses.append(status)))
        read = bytes_read() - before
        assert gdal.GetCacheMax() == 16 << 20
    finally:
        gdal.SetCacheMax(cache_before)
    assert np.array_equal(read_raster(tmp_path / "out.tif")[0], noise * 2)
    assert read < 3 * strip.stat().st_size + tiled.stat().st_size  # the strip read once, not per window
    assert result.windows > 4 * 4 and f"window {result.windows} of {result.windows}" in statuses
    assert gdal_io.LARGE_BLOCK_PIXELS < side * side


def test_an_input_whose_blocks_would_not_fit_in_memory_is_refused(tmp_path, monkeypatch):
    from offload.raster_tasks import gdal_io

    strip = one_strip(tmp_path / "strip.tif", np.ones((2200, 2200), np.float32))
    monkeypatch.setattr(gdal_io, "usable_memory", lambda: 30_000_000)  # 19.4 MB held > 15 MB
    with pytest.raises(InputError, match=r"^input A is stored in blocks of 2,200×2,200 pixels, which GDAL reads whole: "
                                         r"19 MB at once, over half of this machine's 30 MB; rewrite it tiled"):
        api.calc("A + 1", {"A": strip}, tmp_path / "out.tif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["strip.tif"]


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="bytes read are counted by Linux's /proc/self/io")
@pytest.mark.parametrize("case", ["two bands of one file", "aligned to another grid"])
def test_a_one_strip_file_is_decompressed_once_however_it_is_bound(tmp_path, case):
    """Two bands of one strip file shared nothing, so each decompressed the strip; an input aligned to
    another grid (a warped VRT of small blocks) hid its file's strip and was decompressed per window."""
    noise = np.random.default_rng(3).random((2, 2200, 2200), dtype=np.float32)
    if case == "two bands of one file":
        strip = one_strip(tmp_path / "strip.tif", noise)
        inputs, options = {"A": f"{strip}@1", "B": f"{strip}@2"}, {}
        expected = noise[0] - noise[1]
    else:
        strip = one_strip(tmp_path / "strip.tif", noise[0, :, :2150])  # narrower than the grid: aligned to it
        inputs, options = {"B": str(strip), "A": write_raster(tmp_path / "tiled.tif", noise[1], block=256)}, \
            {"extent": "A"}
        expected = np.where(np.arange(2200) < 2150, np.pad(noise[0, :, :2150], ((0, 0), (0, 50))) - noise[1], np.nan)
    cache_before = gdal.GetCacheMax()
    gdal.SetCacheMax(16 << 20)
    try:
        before = bytes_read()
        api.calc("A - B" if case == "two bands of one file" else "B - A", inputs, tmp_path / "out.tif",
                 creation_options=("COMPRESS=NONE",), **options).wait(120)
        read = bytes_read() - before
    finally:
        gdal.SetCacheMax(cache_before)
    values, nodata = read_raster(tmp_path / "out.tif")
    values = np.where(values == nodata, np.nan, values)
    assert np.array_equal(values, expected, equal_nan=True)
    others = sum(Path(path).stat().st_size for path in inputs.values() if Path(path).exists() and Path(path) != strip)
    assert read < 1.5 * strip.stat().st_size + others  # once, not once a band or a window
