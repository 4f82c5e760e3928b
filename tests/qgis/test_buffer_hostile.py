"""Hostile inputs to buffering (issue 14): no crash, nothing lost, nothing left, cancel answered."""
from __future__ import annotations

import subprocess
import sys

import pytest
from qgis.core import QgsVectorLayer

from offload.core.errors import InputError
from vector_data import make_layer


def offload_buffer(spec, output, env, *options):
    return subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--output", str(output),
                           *options], env=env, capture_output=True, text=True, timeout=120)


def messages(done) -> list:
    return [line for line in done.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line]


def left_in(folder) -> list:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("distance", ["nan", "inf", "-inf"])
def test_a_non_finite_distance_is_refused_by_the_cli(tmp_path, subprocess_env, distance):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    done = offload_buffer(spec, tmp_path / "out.gpkg", subprocess_env, f"--distance={distance}")
    assert done.returncode == 2, done.stderr
    assert messages(done) == [f"offload buffer: distance {distance} is not a finite number"]
    assert left_in(tmp_path) == ["in.gpkg"]


def test_a_non_finite_distance_is_refused_by_the_api_and_processing(qgis_processing, tmp_path):
    import processing
    from qgis.core import QgsApplication

    from offload import api
    from offload.provider import OffloadProvider

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    with pytest.raises(InputError, match="distance nan is not a finite number"):
        api.buffer(spec, tmp_path / "out.gpkg", distance=float("nan"))
    registry = QgsApplication.processingRegistry()
    added = registry.providerById("offload") is None
    if added:
        registry.addProvider(OffloadProvider())
    layer = QgsVectorLayer(spec, "in", "ogr")
    try:
        with pytest.raises(Exception, match="distance nan is not a finite number"):
            processing.run("offload:buffer", {"INPUT": layer, "DISTANCE": float("nan"),
                                              "OUTPUT": str(tmp_path / "out.gpkg")})
    finally:
        if added:
            registry.removeProvider("offload")
    assert left_in(tmp_path) == ["in.gpkg"]


@pytest.mark.parametrize("expression, feature, value", [
    ("sqrt(-1)", 1, "nan"),  # NaN for every feature: native:buffer crashes on the first
    ('CASE WHEN "n" = 6 THEN exp(1000) ELSE 1 END', 7, "inf"),  # one feature's distance is infinite
])
def test_a_non_finite_distance_per_feature_fails_naming_the_feature(tmp_path, subprocess_env, expression, feature,
                                                                     value):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    done = offload_buffer(spec, tmp_path / "out.gpkg", subprocess_env, "--distance-expression", expression)
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert f"feature {feature}: the distance expression gave {value}" in done.stderr
    assert left_in(tmp_path) == ["in.gpkg"]
