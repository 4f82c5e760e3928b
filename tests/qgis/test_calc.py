"""The raster calculator on real GeoTIFFs: numpy references, gdal_calc.py and gdaldem parity,
grids, refusals, cancel, multi-band and COG outputs."""
from __future__ import annotations

import dataclasses
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from offload.core.errors import InputError
from offload.core.task import start
from offload.raster_tasks import calc as calc_module
from offload.raster_tasks import kernels
from offload.raster_tasks.calc import validate_calc_request
from offload.raster_tasks.request import OUTPUT_TYPE_NAMES, CalcInput, CalcRequest, parse_input
from offload.raster_tasks.calc_task import RasterCalcTask
from qgis_helpers import cancel_and_time, read_raster, run_to_end, wait_until, write_raster

GDAL_CALC = shutil.which("gdal_calc.py")
ODD = (333, 517)  # rows, cols: not a multiple of any block size


@pytest.fixture
def small_windows(monkeypatch):
    """Force many windows (and their seams) on small test rasters, computed on the pool as a
    long job's are."""
    monkeypatch.setattr(calc_module, "MAX_WINDOW_PIXELS", 64 * 64)
    monkeypatch.setattr(calc_module, "POOL_WORTH_SECONDS", 0.0)


@pytest.fixture
def pair(tmp_path):
    """Two Float32 rasters of odd size, tiled 64, with nodata holes (-9999)."""
    rng = np.random.default_rng(11)
    a = (rng.random(ODD) * 100 + 1).astype(np.float32)
    b = (rng.random(ODD) * 100 + 1).astype(np.float32)
    a[rng.random(ODD) < 0.05] = -9999
    b[rng.random(ODD) < 0.05] = -9999
    return (write_raster(tmp_path / "a.tif", a, nodata=-9999, block=64),
            write_raster(tmp_path / "b.tif", b, nodata=-9999, block=64), a, b)


def calc(tmp_path, expressions, inputs, **options) -> Path:
    output = options.pop("output", tmp_path / "out.tif")
    request = CalcRequest(tuple(expressions), tuple(parse_input(i) for i in inputs), output, **options)
    task = RasterCalcTask(request)
    assert run_to_end(task, 60) is True, task.error
    return output


def test_equals_a_whole_array_numpy_reference_with_nodata(tmp_path, pair, small_windows):
    a_path, b_path, a, b = pair
    out = calc(tmp_path, ["(A - B) / (A + B)"], [f"A={a_path}", f"B={b_path}"])
    values, nodata = read_raster(out)
    missing = (a == -9999) | (b == -9999)
    with np.errstate(all="ignore"):
        expected = ((a - b) / (a + b)).astype(np.float32)
    assert nodata == np.float32(3.402823466e38)
    np.testing.assert_array_equal(values[missing], np.float32(nodata))
    np.testing.assert_array_equal(values[~missing], expected[~missing])
    dataset = gdal.Open(str(out))  # keep it: a band does not keep its dataset alive
    stats = dataset.GetRasterBand(1).GetStatistics(False, False)
    np.testing.assert_allclose(stats[:2], [expected[~missing].min(), expected[~missing].max()])
    assert stats[2] == pytest.approx(expected[~missing].astype(np.float64).mean(), rel=1e-6)


@pytest.mark.parametrize("dtype, expression", [(np.int16, "A * 3 - B"), (np.uint8, "A / 2 + B / 3"),
                                                (np.float64, "sqrt(A) * B")])
def test_types_round_and_clamp_as_gdal_does(tmp_path, dtype, expression, small_windows):
    rng = np.random.default_rng(3)
    a = (rng.random(ODD) * 90).astype(dtype)
    b = (rng.random(ODD) * 90).astype(dtype)
    out = calc(tmp_path, [expression], [f"A={write_raster(tmp_path / 'a.tif', a)}",
                                        f"B={write_raster(tmp_path / 'b.tif', b)}"])
    values, _ = read_raster(out)
    assert values.dtype == np.dtype(dtype)
    with np.errstate(all="ignore"):
        raw = {"A * 3 - B": a * 3 - b, "A / 2 + B / 3": a / 2 + b / 3, "sqrt(A) * B": np.sqrt(a) * b}[expression]
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(values, raw)
    else:
        info = np.iinfo(dtype)
        raw = raw.astype(np.float64)
        np.testing.assert_array_equal(values, np.clip(np.trunc(raw + np.copysign(0.5, raw)), info.min, info.max))


GDAL_CALC_EXPRESSIONS = [
    "A + B", "A - B", "A * B", "(A - B) / (A + B)", "A / 3.5", "A ** 0.5", "A % 7",
    "A > B", "(A > 50) * A", "numpy_where", "minimum(A, B)", "maximum(A, 40) + B",
]


@pytest.mark.skipif(GDAL_CALC is None, reason="gdal_calc.py is part of Debian's python3-gdal")
@pytest.mark.parametrize("expression", GDAL_CALC_EXPRESSIONS)
def test_parity_with_gdal_calc(tmp_path, pair, expression):
    a_path, b_path, _, _ = pair
    ours_text = "where(A > B, A, B)" if expression == "numpy_where" else expression
    theirs_text = "numpy.where(A > B, A, B)" if expression == "numpy_where" else ours_text
    theirs_text = {"minimum(A, B)": "numpy.minimum(A, B)", "maximum(A, 40) + B": "numpy.maximum(A, 40) + B"}.get(
        expression, theirs_text)
    theirs = tmp_path / "theirs.tif"
    # gdal_calc.py masks nodata of every input it is given, so give it only those the expression uses,
    # as its users do; Offload masks the inputs an expression uses.
    used = [("-A", a_path)] + ([("-B", b_path)] if "B" in ours_text else [])
    subprocess.run([sys.executable, GDAL_CALC, *[str(x) for pair in used for x in pair], f"--calc={theirs_text}",
                    f"--outfile={theirs}", "--quiet", "--type=Float32"], check=True, capture_output=True)
    ours = calc(tmp_path, [ours_text], [f"A={a_path}", f"B={b_path}"], output_type="Float32")
    (ours_values, ours_nodata), (their_values, their_nodata) = read_raster(ours), read_raster(theirs)
    assert ours_nodata == their_nodata
    # gdal_calc.py writes 0 * result + nodata, which is NaN where the result is NaN (A ** 0.5
    # of a nodata -9999): a quirk of its masking. Offload writes the nodata value there.
    quirk = np.isnan(their_values) & (ours_values == ours_nodata)
    np.testing.assert_array_equal(ours_values, np.where(quirk, their_nodata, their_values))


def dem_pair(tmp_path):
    from offload.demo.synthetic import terrain_grid

    z = terrain_grid(780_000, 5_790_000, 30, ODD[1], ODD[0])
    z[100:104, 200:203] = -9999
    return write_raster(tmp_path / "dem.tif", z, nodata=-9999, block=64,
                        geotransform=(780_000.0, 30.0, 0.0, 5_790_000.0, 0.0, -30.0)), z


@pytest.mark.parametrize("mode, expression, extra, tolerance", [
    ("slope", "slope(A)", [], 1e-3), ("aspect", "aspect(A)", [], 0.05),
    ("hillshade", "hillshade(A)", ["--type", "Byte"], 0), ("hillshade", "hillshade(A, 30, 60)", [], 0),
])
def test_parity_with_gdaldem(tmp_path, mode, expression, extra, tolerance, small_windows):
    dem, _ = dem_pair(tmp_path)
    args = ["-az", "30", "-alt", "60"] if "30" in expression else []
    subprocess.run(["gdaldem", mode, "-q", *args, str(dem), str(tmp_path / "ref.tif")], check=True)
    output_type = "Byte" if mode == "hillshade" else None
    ours = calc(tmp_path, [expression], [f"A={dem}"], output_type=output_type, nodata=0 if output_type else -9999)
    (values, _), (ref, ref_nodata) = read_raster(ours), read_raster(tmp_path / "ref.tif")
    np.testing.assert_array_equal(values == (0 if output_type else -9999), ref == ref_nodata)
    valid = ref != ref_nodata
    difference = np.abs(values[valid].astype(np.float64) - ref[valid])
    if mode == "aspect":  # angles: 0.001° and 359.999° are neighbours; near-flat pixels are
        difference = np.minimum(difference, 360.0 - difference)  # sensitive to gdaldem's float32
        assert np.percentile(difference, 99.9) <= tolerance and difference.max() < 0.5
        return
    if mode == "hillshade":  # gdaldem computes in float32: a rare pixel rounds across .5
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-4
    else:
        assert difference.max() <= tolerance


@pytest.mark.parametrize("expression", ["slope(A)", "focal_mean(A, 5)", "focal_min(A, 3) + focal_max(A, 7)",
                                        "hillshade(focal_mean(A, 3), 200, 30)"])
def test_neighbourhoods_have_no_seams_between_windows(tmp_path, expression, small_windows):
    dem, z = dem_pair(tmp_path)
    values, nodata = read_raster(calc(tmp_path, [expression], [f"A={dem}"], output_type="Float64"))
    surface = np.where(z == -9999, np.nan, z)  # float32, as the calculator computes for float32 input
    res = np.full(z.shape[0], 30.0)

    def whole(text):  # the same expression on the whole array at once
        if text == "slope(A)":
            return kernels.slope(surface, res, 30.0)
        if text == "focal_mean(A, 5)":
            return kernels.focal(surface, 5, "mean")
        if text.startswith("focal_min"):
            (lo, lo_bad), (hi, hi_bad) = kernels.focal(surface, 3, "min"), kernels.focal(surface, 7, "max")
            return lo + hi, lo_bad | hi_bad
        smoothed, _ = kernels.focal(surface, 3, "mean")
        return kernels.hillshade(smoothed, res, 30.0, 200, 30)

    expected, invalid = whole(expression)
    invalid = invalid | (z == -9999)
    np.testing.assert_array_equal(values == nodata, invalid)
    np.testing.assert_allclose(values[~invalid], expected[~invalid], rtol=1e-6)  # a seam would be far off


def test_band_selection_and_multi_band_output(tmp_path):
    stack = np.stack([np.full((40, 50), v, np.float32) for v in (1, 2, 3)])
    path = write_raster(tmp_path / "stack.tif", stack)
    out = calc(tmp_path, ["A + B", "A * 10", "B"], [f"A={path}@2", f"B={path}@3"])
    dataset = gdal.Open(str(out))
    assert dataset.RasterCount == 3
    assert [float(dataset.GetRasterBand(i).ReadAsArray().mean()) for i in (1, 2, 3)] == [5.0, 20.0, 3.0]


@pytest.mark.skipif(GDAL_CALC is None, reason="gdal_calc.py is part of Debian's python3-gdal")
@pytest.mark.parametrize("extent", ["intersect", "union"])
def test_extent_gives_gdal_calcs_grid(tmp_path, extent):
    a = write_raster(tmp_path / "a.tif", np.full((40, 50), 2, np.float32), nodata=-1)
    b = write_raster(tmp_path / "b.tif", np.full((30, 45), 3, np.float32), nodata=-1,
                     geotransform=(1100.0, 10.0, 0.0, 1900.0, 0.0, -10.0))
    theirs = tmp_path / "theirs.tif"
    subprocess.run([sys.executable, GDAL_CALC, "-A", str(a), "-B", str(b), "--calc=A*B", f"--outfile={theirs}",
                    f"--extent={extent}", "--quiet", "--NoDataValue=-1"], check=True, capture_output=True)
    ours = calc(tmp_path, ["A*B"], [f"A={a}", f"B={b}"], extent=extent, nodata=-1)
    ours_ds, their_ds = gdal.Open(str(ours)), gdal.Open(str(theirs))
    assert ours_ds.GetGeoTransform() == their_ds.GetGeoTransform()
    assert (ours_ds.RasterXSize, ours_ds.RasterYSize) == (their_ds.RasterXSize, their_ds.RasterYSize)
    np.testing.assert_array_equal(ours_ds.ReadAsArray(), their_ds.ReadAsArray())


def test_an_input_in_another_crs_is_warped_onto_the_reference_grid(tmp_path):
    a = write_raster(tmp_path / "a.tif", np.ones((60, 80), np.float32), epsg=3857,
                     geotransform=(780_000.0, 100.0, 0.0, 5_790_000.0, 0.0, -100.0))
    warped_in = tmp_path / "b4326.tif"
    gdal.Warp(str(warped_in), str(a), dstSRS="EPSG:4326")
    values = gdal.Open(str(warped_in)).ReadAsArray() * 0 + np.arange(gdal.Open(str(warped_in)).RasterXSize)
    write_raster(tmp_path / "b.tif", values.astype(np.float32), epsg=4326,
                 geotransform=gdal.Open(str(warped_in)).GetGeoTransform(), nodata=-1)
    with pytest.raises(InputError, match="input B is not on the grid of A"):
        validate_calc_request(CalcRequest(("A+B",), (CalcInput("A", str(a)), CalcInput("B", str(tmp_path / "b.tif"))),
                                          tmp_path / "x.tif"))
    ours = calc(tmp_path, ["B"], [f"A={a}", f"B={tmp_path / 'b.tif'}"], extent="A", resolution="A", nodata=-1)
    reference = gdal.Warp("/vsimem/ref.tif", str(tmp_path / "b.tif"), dstSRS="EPSG:3857", resampleAlg="near",
                          outputBounds=(780_000.0, 5_784_000.0, 788_000.0, 5_790_000.0), width=80, height=60)
    ours_ds = gdal.Open(str(ours))
    assert ours_ds.GetGeoTransform() == (780_000.0, 100.0, 0.0, 5_790_000.0, 0.0, -100.0)
    np.testing.assert_array_equal(ours_ds.ReadAsArray(), reference.ReadAsArray())


def test_cog_output(tmp_path, pair):
    a_path, _, _, _ = pair
    out = calc(tmp_path, ["A * 2"], [f"A={a_path}"], format="COG")
    assert gdal.Open(str(out)).GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert sorted(p.name for p in tmp_path.iterdir() if "out" in p.name) in (["out.tif"], ["out.tif", "out.tif.aux.xml"])


def test_cancel_mid_raster_leaves_no_file(tmp_path):
    big = write_raster(tmp_path / "big.tif", np.random.default_rng(0).random((3000, 3000), dtype=np.float32), block=256)
    task = start(RasterCalcTask(CalcRequest(("focal_mean(A, 9)",), (CalcInput("A", str(big)),), tmp_path / "out.tif",
                                            threads=1)))
    wait_until(lambda: task.fraction > 0, 30, "the first windows")
    assert cancel_and_time(task) < 10 and task.canceled  # answered; how fast: bench/canvas.py
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tif"]


@pytest.mark.parametrize("inputs, options, message", [
    (["A=missing.tif"], {}, "input A='missing.tif' does not exist"),
    (["A={a}@3"], {}, "has 1 band(s); band 3 does not exist"),
    (["A={dir}"], {}, "is a folder, not a raster"),
    (["A={a}"], {"output_type": "Float16"}, "output_type 'Float16' is not one of Byte, UInt16"),
    (["A={a}", "A={b}"], {}, "input name 'A' is bound twice"),
    (["A={a}"], {"output": "{dir}/nowhere/out.tif"}, "does not exist"),
    (["A={a}"], {"expressions": ("A +",)}, "syntax error"),
    (["A={a}"], {"extent": "sideways"}, "--extent 'sideways' is not intersect or union or an input name"),
    (["A={a}"], {"nodata": 300.0, "output_type": "Byte"}, "nodata 300 does not fit the output type uint8"),
    (["A={a}"], {"threads": 0}, "threads 0 is below the smallest allowed, 1"),
    (["A={a}"], {"format": "PNG"}, "format 'PNG' is not one of GTiff, COG"),
    (["A={notraster}"], {}, "is not a raster GDAL can read"),
])
def test_refusals_name_the_bad_value_and_write_nothing(tmp_path, pair, inputs, options, message):
    a_path, b_path, _, _ = pair
    (tmp_path / "notraster.txt").write_text("hello")
    fill = dict(a=a_path, b=b_path, dir=tmp_path, notraster=tmp_path / "notraster.txt")
    request = CalcRequest(
        expressions=options.pop("expressions", ("A * 2",)),
        inputs=tuple(parse_input(i.format(**fill)) for i in inputs),
        output=Path(options.pop("output", str(tmp_path / "out.tif")).format(**fill)),
        **options)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(InputError, match=__import__("re").escape(message)):
        RasterCalcTask(request)
    assert sorted(tmp_path.iterdir()) == before


def test_an_existing_output_needs_overwrite(tmp_path, pair):
    a_path, _, _, _ = pair
    (tmp_path / "out.tif").write_bytes(b"mine")
    with pytest.raises(InputError, match="exists; pass overwrite"):
        RasterCalcTask(CalcRequest(("A",), (CalcInput("A", str(a_path)),), tmp_path / "out.tif"))
    assert (tmp_path / "out.tif").read_bytes() == b"mine"


def test_the_pure_type_list_matches_gdals():
    from offload.raster_tasks.gdal_io import OUTPUT_TYPES

    assert tuple(OUTPUT_TYPES) == OUTPUT_TYPE_NAMES


@pytest.mark.parametrize("args, message", [
    (["--expr", "A +* 2"], "syntax error at column 4"),
    (["--expr", "A", "--input", "B={a}"], "bound twice"),
    (["--expr", "A", "--type", "Float16"], "--type: invalid choice: 'Float16'"),
    (["--expr", "A.max()"], "attribute access"),
])
def test_the_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, pair, subprocess_env, args, message):
    a_path, _, _, _ = pair
    out = tmp_path / "cli-out.tif"
    done = subprocess.run([sys.executable, "-m", "offload", "calc", "--input", f"A={a_path}", "--input", f"B={a_path}",
                           *[arg.format(a=a_path) for arg in args], "--output", str(out)],
                          env=subprocess_env, capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line]
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".offload-" in p.name]


@pytest.mark.parametrize("kind, compression", [("noise", None), ("smooth", "ZSTD"), ("smooth-cog", "ZSTD")])
def test_the_default_output_is_compressed_only_where_it_pays(tmp_path, kind, compression):
    rows, cols = np.mgrid[0:600, 0:700]
    if kind == "noise":
        values = np.random.default_rng(2).standard_normal((600, 700)).astype(np.float32)
    else:
        values = (500 + 300 * np.sin(rows / 70.0) * np.cos(cols / 90.0)).astype(np.float32)
    a = write_raster(tmp_path / "a.tif", values, block=256)
    out = calc(tmp_path, ["A * 2"], [f"A={a}"], format="COG" if kind.endswith("cog") else "GTiff")
    dataset = gdal.Open(str(out))
    assert dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == compression
    raw = 3 * 3 * 256 * 256 * 4  # the uncompressed file: whole 256² tiles
    assert out.stat().st_size <= (0.7 * raw if compression else 1.01 * raw)
    np.testing.assert_array_equal(dataset.ReadAsArray(), values * 2)


@pytest.mark.parametrize("holes", ["scattered", "in runs"])  # filled by index / by mask
@pytest.mark.parametrize("expression", ["A", "A - 1", "-A", "A * 0", "where(A > 50, 1 / (A - A), A)"])
def test_statistics_are_those_of_the_valid_pixels(tmp_path, pair, expression, holes, small_windows):
    a_path, _, a, _ = pair
    if holes == "in runs":  # windows wholly or mostly nodata, beside the scattered holes
        a = a.copy()
        a[:, :a.shape[1] // 3] = -9999
        a[10:40, 50:] = -9999
        a_path = write_raster(tmp_path / "runs.tif", a, nodata=-9999, block=64)
    out = calc(tmp_path, [expression], [f"A={a_path}"])
    values, nodata = read_raster(out)
    assert (values[a == -9999] == nodata).all()
    valid = values[(values != nodata) & np.isfinite(values)].astype(np.float64)
    dataset = gdal.Open(str(out))  # keep it: a band does not keep its dataset alive
    band = dataset.GetRasterBand(1)
    minimum, maximum, mean, std = band.GetStatistics(False, False)
    assert (minimum, maximum) == pytest.approx((valid.min(), valid.max()), rel=1e-12)  # stored as text
    assert mean == pytest.approx(valid.mean(), rel=1e-9, abs=1e-12)
    assert std == pytest.approx(valid.std(), rel=1e-6, abs=1e-9)
    assert float(band.GetMetadataItem("STATISTICS_VALID_PERCENT")) == pytest.approx(
        100 * valid.size / values.size, abs=0.01)  # float ±inf and NaN are values, but not counted


@pytest.mark.skipif(GDAL_CALC is None, reason="gdal_calc.py is part of Debian's python3-gdal")
def test_ndvi_of_integer_bands_as_gdal_calc(tmp_path, small_windows):
    """Sentinel-2 and Landsat bands are UInt16: (A - B) / (A + B) divides integers into floats
    (it used to fail dividing in place into the integer temporary A - B)."""
    rng = np.random.default_rng(8)
    a = write_raster(tmp_path / "a.tif", rng.integers(1000, 5000, ODD, dtype=np.uint16), block=64)
    b = write_raster(tmp_path / "b.tif", rng.integers(500, 3000, ODD, dtype=np.uint16), block=64)
    theirs = tmp_path / "theirs.tif"
    subprocess.run([sys.executable, GDAL_CALC, "-A", str(a), "-B", str(b), "--calc=(A - B) / (A + B)",
                    f"--outfile={theirs}", "--quiet", "--type=Float32"], check=True, capture_output=True)
    ours = calc(tmp_path, ["(A - B) / (A + B)"], [f"A={a}", f"B={b}"], output_type="Float32")
    np.testing.assert_array_equal(read_raster(ours)[0], read_raster(theirs)[0])


@pytest.mark.parametrize("kind", ["noise", "smooth"])
def test_each_window_is_computed_once_with_the_default_output(tmp_path, kind, small_windows, monkeypatch):
    """The compression probe's window is the one written, not computed a second time."""
    rows, cols = np.mgrid[0:ODD[0], 0:ODD[1]]
    values = np.random.default_rng(3).standard_normal(ODD) if kind == "noise" else rows + cols
    a_path = write_raster(tmp_path / "a.tif", values.astype(np.float32), block=64)
    computed = []
    compute = calc_module._Engine.compute
    monkeypatch.setattr(calc_module._Engine, "compute",
                        lambda engine, window, control: computed.append(window) or compute(engine, window, control))
    out = calc(tmp_path, ["A * 2"], [f"A={a_path}"])
    assert len(computed) > 2 and len(set(computed)) == len(computed)  # several windows, none twice
    assert sum(window.pixels for window in computed) == ODD[0] * ODD[1]
    expected = "ZSTD" if kind == "smooth" else None
    assert gdal.Open(str(out)).GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == expected


def test_the_plan_is_plain_frozen_values(pair):
    """The plan crosses to the worker thread: frozen, and nothing in it is a live handle (it pickles)."""
    a_path, b_path, _, _ = pair
    plan = validate_calc_request(CalcRequest(("A - B",), (CalcInput("A", str(a_path)), CalcInput("B", str(b_path))),
                                             a_path.with_name("out.tif")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.threads = 1
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_the_task_tells_what_it_did(tmp_path, pair, small_windows):
    a_path, b_path, _, _ = pair
    task = RasterCalcTask(CalcRequest(("A * 2", "where(A > 50, A, B)"), (CalcInput("A", str(a_path)),
                                      CalcInput("B", str(b_path))), tmp_path / "out.tif"))
    assert run_to_end(task, 60) is True, task.error
    result, out = task.details, tmp_path / "out.tif"
    assert (result.width, result.height, result.pixels) == (ODD[1], ODD[0], ODD[0] * ODD[1])
    assert result.windows > 1 and result.seconds > 0
    assert result.bytes_written == sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("out.tif"))
    dataset = gdal.Open(str(out))
    assert result.compression == (dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") or "NONE")
    for index, stats in enumerate(result.statistics, start=1):
        band = dataset.GetRasterBand(index)
        assert (stats.minimum, stats.maximum, stats.mean, stats.std) == pytest.approx(band.GetStatistics(False, False))
        assert f"{stats.valid_percent:.4g}" == band.GetMetadataItem("STATISTICS_VALID_PERCENT")
    summary = result.summary()
    assert "\n" not in summary and f"{ODD[1]:,}×{ODD[0]:,} pixels, 2 bands" in summary and "band 2: " in summary


@pytest.mark.parametrize("lasting", [False, True])
def test_a_short_job_stays_on_the_calling_thread(tmp_path, pair, monkeypatch, lasting):
    """Starting a pool costs more than a short job takes: its windows are computed on the thread
    that writes; a job that lasts is shared out over the pool."""
    a_path, b_path, _, _ = pair
    monkeypatch.setattr(calc_module, "MAX_WINDOW_PIXELS", 64 * 64)
    if lasting:
        monkeypatch.setattr(calc_module, "POOL_WORTH_SECONDS", 0.0)
    threads = []
    compute = calc_module._Engine.compute
    monkeypatch.setattr(calc_module._Engine, "compute", lambda engine, window, control: threads.append(
        threading.current_thread().name) or compute(engine, window, control))
    calc(tmp_path, ["(A - B) / (A + B)"], [f"A={a_path}", f"B={b_path}"], threads=2)
    assert len(threads) > 4 and len(set(threads)) == (3 if lasting else 1)  # the first window paces the job


def test_the_first_windows_one_off_costs_do_not_start_a_pool(tmp_path, pair, monkeypatch):
    """The first window also pays for opening the inputs and first calls: when that alone puts a
    short job over the line, a second window gives the pace, and the job stays on one thread."""
    a_path, b_path, _, _ = pair
    monkeypatch.setattr(calc_module, "MAX_WINDOW_PIXELS", 64 * 64)
    monkeypatch.setattr(calc_module, "POOL_WORTH_SECONDS", 1.0)
    windows = len(calc_module.plan_windows(ODD[1], ODD[0], 256, 256, 64 * 64))  # whole output tiles: 6
    threads = []
    compute = calc_module._Engine.compute

    def first_one_slow(engine, window, control):
        if not threads:  # one-off costs: twice the line at this pace, within what a first window overstates
            time.sleep(2 * calc_module.POOL_WORTH_SECONDS / windows)
        threads.append(threading.current_thread().name)
        return compute(engine, window, control)

    monkeypatch.setattr(calc_module._Engine, "compute", first_one_slow)
    calc(tmp_path, ["(A - B) / (A + B)"], [f"A={a_path}", f"B={b_path}"], threads=2)
    assert len(threads) == windows and len(set(threads)) == 1


def test_a_small_job_is_computed_in_tile_sized_windows(tmp_path, monkeypatch):
    """Each window's arrays are fresh memory on a process's first run (a page fault a page):
    small jobs take one output tile at a time; larger ones keep wide windows."""
    values = np.arange(512 * 512, dtype=np.float32).reshape(512, 512)
    source = write_raster(tmp_path / "a.tif", values, block=256)
    plain = ("TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=NONE")

    def windows(output: str) -> int:
        request = CalcRequest(("A * 2",), (parse_input(f"A={source}"),), tmp_path / output, creation_options=plain)
        task = RasterCalcTask(request)
        assert run_to_end(task, 60) is True, task.error
        np.testing.assert_array_equal(read_raster(tmp_path / output)[0], values * 2)
        return task.details.windows

    assert windows("small.tif") == 4  # 256² each
    monkeypatch.setattr(calc_module, "SMALL_JOB_PIXELS", 512 * 512 - 1)
    assert windows("larger.tif") == 1  # 512² fits one window of MAX_WINDOW_PIXELS


@pytest.mark.parametrize("interleave", ["BAND", "PIXEL"])  # a block per band (written block by block) / for all
def test_uncompressed_bands_are_written_whole_however_interleaved(tmp_path, pair, small_windows, interleave):
    a_path, b_path, a, b = pair
    out = calc(tmp_path, ["A * 2", "where(A > 50, A, B)"], [f"A={a_path}", f"B={b_path}"],
               creation_options=("COMPRESS=NONE", f"INTERLEAVE={interleave}", "BLOCKXSIZE=32", "BLOCKYSIZE=32"))
    dataset = gdal.Open(str(out))
    assert dataset.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == interleave
    missing = (a == -9999) | (b == -9999)
    for index, expected in enumerate([a * 2, np.where(a > 50, a, b)], start=1):
        values, nodata = read_raster(out, index)
        np.testing.assert_array_equal(values[~missing], expected[~missing])
        assert (values[a == -9999] == nodata).all()


@pytest.mark.parametrize("options", [["TILED=YES", "BLOCKXSIZE=208", "BLOCKYSIZE=176"], ["TILED=YES"], []])
def test_windows_that_share_output_blocks_are_all_written(tmp_path, options):
    """Windows cut across the output's blocks where the inputs' blocks make them (review finding):
    a block two windows share keeps both windows' pixels."""
    from offload.raster_tasks.blocks import Window
    from offload.raster_tasks.gdal_io import Writer

    expected = np.random.default_rng(8).random((700, 1000)).astype(np.float32)
    path = tmp_path / "out.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 1000, 700, 1, gdal.GDT_Float32, options)
    writer = Writer(dataset, compressed=False)
    for row in range(0, 700, 300):
        for col in range(0, 1000, 256):
            window = Window(col, row, min(256, 1000 - col), min(300, 700 - row))
            writer.write(1, window, np.ascontiguousarray(expected[row:row + window.height, col:col + window.width]))
    writer.flush()
    dataset = None
    np.testing.assert_array_equal(read_raster(path)[0], expected)
