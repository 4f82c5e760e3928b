"""offload:calc in Processing and qgis_process: same validator, same engine, same output as the CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from qgis_helpers import read_raster, write_raster

QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"


@pytest.fixture
def rasters(tmp_path):
    rng = np.random.default_rng(5)
    a = (rng.random((90, 130)) * 50).astype(np.float32)
    b = (rng.random((90, 130)) * 50).astype(np.float32)
    a[3, 4] = -1
    return write_raster(tmp_path / "a.tif", a, nodata=-1), write_raster(tmp_path / "b.tif", b, nodata=-1)


def cli(tmp_path, *args) -> Path:
    out = tmp_path / "cli.tif"
    subprocess.run([sys.executable, "-m", "offload", "calc", *args, "--output", str(out)], check=True,
                   capture_output=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    return out


def test_processing_run_gives_the_clis_output(offload_provider, rasters, tmp_path):
    import processing

    a, b = rasters
    result = processing.run("offload:calc", {"EXPRESSION": "(A - B) / (A + B)\nslope(A)", "INPUTS": [str(a), str(b)],
                                             "OUTPUT": str(tmp_path / "alg.tif")})
    reference = cli(tmp_path, "--input", f"A={a}", "--input", f"B={b}", "--expr", "(A - B) / (A + B)",
                    "--expr", "slope(A)")
    for band in (1, 2):
        np.testing.assert_array_equal(read_raster(Path(result["OUTPUT"]), band)[0], read_raster(reference, band)[0])


def test_bad_input_is_refused_by_check_parameter_values(offload_provider, rasters, tmp_path):
    import processing

    a, _ = rasters
    with pytest.raises(QgsProcessingException, match=r"unknown name 'C' \(inputs: A\) at column 5"):
        processing.run("offload:calc", {"EXPRESSION": "A + C", "INPUTS": [str(a)], "OUTPUT": str(tmp_path / "x.tif")})
    with pytest.raises(QgsProcessingException, match="has 1 band"):
        processing.run("offload:calc", {"EXPRESSION": "A", "INPUTS": [str(a)], "BANDS": "2",
                                        "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.skipif(not Path(QGIS_PROCESS).exists(), reason="qgis_process comes with the QGIS desktop")
def test_qgis_process_run_gives_the_clis_output(rasters, tmp_path):
    a, b = rasters
    profile = tmp_path / "config" / "profiles" / "default"
    (profile / "python" / "plugins").mkdir(parents=True)
    (profile / "python" / "plugins" / "offload").symlink_to(Path(__file__).resolve().parents[2])
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\noffload=true\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QGIS_OPTIONS_PATH")}
    env.update(QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen")
    out = tmp_path / "qp.tif"
    done = subprocess.run([QGIS_PROCESS, "run", "offload:calc", f"--INPUTS={a}", f"--INPUTS={b}",
                           "--EXPRESSION=A * 2 - B", f"--OUTPUT={out}"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    reference = cli(tmp_path, "--input", f"A={a}", "--input", f"B={b}", "--expr", "A * 2 - B")
    np.testing.assert_array_equal(read_raster(out)[0], read_raster(reference)[0])


def test_offload_calc_steps_chain_in_a_graphical_model(offload_provider, rasters, tmp_path):
    """A model as the Graphical Modeler saves it: dem → offload:calc A * 2 → offload:calc A + 1."""
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildDependency,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterRasterLayer,
    )

    model = QgsProcessingModelAlgorithm("double plus one", "tests")
    model.addModelParameter(QgsProcessingParameterRasterLayer("dem", "DEM"), QgsProcessingModelParameter("dem"))
    for child_id, expression, source in (
            ("double", "A * 2", QgsProcessingModelChildParameterSource.fromModelParameter("dem")),
            ("plus_one", "A + 1", QgsProcessingModelChildParameterSource.fromChildOutput("double", "OUTPUT"))):
        child = QgsProcessingModelChildAlgorithm("offload:calc")
        child.setChildId(child_id)
        child.addParameterSources("EXPRESSION", [QgsProcessingModelChildParameterSource.fromStaticValue(expression)])
        child.addParameterSources("INPUTS", [source])
        if child_id == "plus_one":
            output = QgsProcessingModelOutput("result")
            output.setChildId(child_id)
            output.setChildOutputName("OUTPUT")
            child.setModelOutputs({"result": output})
            child.setDependencies([QgsProcessingModelChildDependency("double")])
        model.addChildAlgorithm(child)
    model.updateDestinationParameters()  # as the modeler does on save: the model's output becomes a parameter
    a, _ = rasters
    out = tmp_path / "model.tif"
    result = processing.run(model, {"dem": str(a), "plus_one:result": str(out)})
    assert result["plus_one:result"] == str(out)
    values, nodata = read_raster(out)
    source, _ = read_raster(a)
    valid = source != -1
    assert np.allclose(values[valid], source[valid] * 2 + 1) and (values[~valid] == nodata).all()


def test_processing_describes_each_input_once(offload_provider, rasters, tmp_path, monkeypatch):
    """checkParameterValues and the run used to open and describe every input twice."""
    import processing

    from offload.raster_tasks import gdal_io

    described = []
    describe = gdal_io.describe
    monkeypatch.setattr(gdal_io, "describe", lambda *args: described.append(args[0]) or describe(*args))
    a, b = rasters
    processing.run("offload:calc", {"EXPRESSION": "A - B", "INPUTS": [str(a), str(b)],
                                    "OUTPUT": str(tmp_path / "once.tif")})
    assert sorted(described) == ["A", "B"]
    assert (tmp_path / "once.tif").exists()


def test_a_reused_check_still_refuses_an_output_that_may_not_fit(offload_provider, rasters, tmp_path, monkeypatch):
    import processing
    from collections import namedtuple

    a, _ = rasters
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10_000, 9_990, 10))
    with pytest.raises(QgsProcessingException, match="may need .* GB"):
        processing.run("offload:calc", {"EXPRESSION": "A", "INPUTS": [str(a)], "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()
