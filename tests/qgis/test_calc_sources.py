"""Raster sources GDAL opens that are not plain files (review finding 10): a GeoPackage raster
table (``GPKG:file:table``, QGIS's source for it), ``vrt://`` and ``/vsizip/`` names. They are
opened, not looked up on disk; one that GDAL cannot open is refused naming it. Complex bands are
refused too (numpy would drop their imaginary part)."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest
from osgeo import gdal

from qgis_helpers import leftovers, read_raster, write_raster


@pytest.fixture
def gpkg_raster(tmp_path):
    """An Int16 raster with nodata, and the same pixels as a GeoPackage raster table ``elev``."""
    values = (np.arange(30 * 40, dtype=np.int16).reshape(30, 40) % 97) - 5
    tif = write_raster(tmp_path / "elev.tif", values, nodata=-5)
    gpkg = tmp_path / "r.gpkg"
    gdal.Translate(str(gpkg), str(tif), format="GPKG", creationOptions=["RASTER_TABLE=elev"])
    return tif, gpkg


def calc_cli(env, tmp_path, source, expression="A + 1"):
    out = tmp_path / "out.tif"
    done = subprocess.run([sys.executable, "-m", "offload", "calc", "--input", f"A={source}", "--expr", expression,
                           "--output", str(out)], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, [line for line in done.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line], out


def test_a_geopackage_raster_by_its_gdal_name_gives_the_inputs_pixels(tmp_path, subprocess_env, gpkg_raster):
    tif, gpkg = gpkg_raster
    code, lines, out = calc_cli(subprocess_env, tmp_path, f"GPKG:{gpkg}:elev")
    assert code == 0, lines
    values, _ = read_raster(tif)
    ours, nodata = read_raster(out)
    valid = values != -5
    np.testing.assert_array_equal(ours[valid], values[valid] + 1)
    assert (ours[~valid] == nodata).all()


@pytest.mark.parametrize("name", ["vrt", "vsizip"])
def test_other_gdal_names_are_opened(tmp_path, subprocess_env, gpkg_raster, name):
    tif, _ = gpkg_raster
    if name == "vrt":
        source = f"vrt://{tif}?bands=1"
    else:
        with zipfile.ZipFile(tmp_path / "elev.zip", "w") as archive:
            archive.write(tif, "elev.tif")
        source = f"/vsizip/{tmp_path / 'elev.zip'}/elev.tif"
    code, lines, out = calc_cli(subprocess_env, tmp_path, source, "A * 2")
    assert code == 0, lines
    values, _ = read_raster(tif)
    np.testing.assert_array_equal(read_raster(out)[0][values != -5], values[values != -5] * 2)


@pytest.mark.parametrize("source", ["GPKG:{tmp}/missing.gpkg:elev", "GPKG:{tmp}/r.gpkg:no_such_table",
                                    "vrt://{tmp}/missing.tif", "{tmp}/missing.tif"])
def test_a_source_gdal_cannot_open_is_refused_naming_it(tmp_path, subprocess_env, gpkg_raster, source):
    source = source.format(tmp=tmp_path)
    code, lines, out = calc_cli(subprocess_env, tmp_path, source)
    assert code == 2 and len(lines) == 1, lines
    reason = "does not exist" if source.startswith("/") else "is not a raster GDAL can read"
    assert f"input A={source!r} {reason}" in lines[0]
    assert not out.exists() and not leftovers(tmp_path)


def test_processing_takes_a_geopackage_raster_layer_as_qgis_calculator_does(tmp_path, gpkg_raster, offload_provider):
    import processing
    from qgis.core import QgsProject, QgsRasterLayer

    _, gpkg = gpkg_raster
    layer = QgsRasterLayer(f"GPKG:{gpkg}:elev", "elev", "gdal")
    assert layer.isValid() and layer.source().startswith("GPKG:")
    QgsProject.instance().addMapLayer(layer)
    try:
        theirs = processing.run("qgis:rastercalculator", {"EXPRESSION": '"elev@1" + 1', "LAYERS": [layer],
                                                          "OUTPUT": str(tmp_path / "qgis.tif")})["OUTPUT"]
        ours = processing.run("offload:calc", {"INPUTS": [layer], "EXPRESSION": "A + 1",
                                               "OUTPUT": str(tmp_path / "offload.tif")})["OUTPUT"]
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    (our_values, our_nodata), (their_values, their_nodata) = read_raster(ours), read_raster(theirs)
    valid = their_values != their_nodata
    assert valid.sum() > 1000 and ((our_values == our_nodata) == ~valid).all()
    np.testing.assert_array_equal(our_values[valid], their_values[valid])


@pytest.mark.parametrize("dtype, type_name", [(np.complex64, "CFloat32"), (np.complex128, "CFloat64")])
def test_a_complex_input_is_refused_rather_than_losing_its_imaginary_part(tmp_path, subprocess_env, dtype,
                                                                           type_name):
    """Review finding 11: the imaginary part was silently dropped."""
    source = write_raster(tmp_path / "c.tif", (np.ones((20, 30)) * (1 + 2j)).astype(dtype))
    code, lines, out = calc_cli(subprocess_env, tmp_path, source)
    assert code == 2 and len(lines) == 1, lines
    assert f"input A='{source}' band 1 is complex ({type_name}); take its real part" in lines[0]
    assert not out.exists()


def test_a_vrt_whose_source_is_missing_is_refused_before_the_run(tmp_path, subprocess_env):
    """Review finding 11: GDAL opens it, and the run failed after it was queued."""
    vrt = tmp_path / "missing.vrt"
    vrt.write_text('<VRTDataset rasterXSize="10" rasterYSize="10"><GeoTransform>0,1,0,10,0,-1</GeoTransform>'
                   '<VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename relativeToVRT="0">'
                   f'{tmp_path}/nope.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>'
                   '</VRTDataset>')
    code, lines, out = calc_cli(subprocess_env, tmp_path, vrt)
    assert code == 2 and len(lines) == 1, lines
    assert f"input A='{vrt}' cannot be read: {tmp_path}/nope.tif: No such file or directory" in lines[0]
    assert not out.exists() and not leftovers(tmp_path)
