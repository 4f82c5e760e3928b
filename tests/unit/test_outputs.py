"""Atomic outputs: temp names next to the target, renamed with sidecars, or all removed."""
from __future__ import annotations

import os

import pytest

from offload.core.errors import InputError
from offload.core.outputs import DeclaredOutput, check_output_path, commit, discard, remove_dataset


def test_temp_name_sits_next_to_the_target_hidden_with_the_same_suffix(tmp_path):
    output = DeclaredOutput(tmp_path / "slope.tif", "raster")
    assert output.temp_path.parent == tmp_path
    assert output.temp_path.name.startswith(".slope.offload-") and output.temp_path.suffix == ".tif"
    assert output.layer_name == "slope"


def test_commit_moves_the_file_and_its_sidecars(tmp_path):
    output = DeclaredOutput(tmp_path / "dem.tif", "raster")
    output.temp_path.write_bytes(b"tif")
    output.temp_path.with_name(output.temp_path.name + ".aux.xml").write_text("<stats/>")
    commit([output])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "dem.tif.aux.xml"]


def test_commit_of_a_shapefile_moves_every_part(tmp_path):
    output = DeclaredOutput(tmp_path / "roads.shp", "vector")
    for suffix in (".shp", ".dbf", ".shx", ".prj"):
        output.temp_path.with_suffix(suffix).write_bytes(b"x")
    commit([output])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roads.dbf", "roads.prj", "roads.shp", "roads.shx"]


def test_commit_over_an_existing_dataset_drops_its_stale_sidecars(tmp_path):
    (tmp_path / "dem.tif").write_bytes(b"old")
    (tmp_path / "dem.tif.aux.xml").write_text("<old stats/>")
    output = DeclaredOutput(tmp_path / "dem.tif", "raster")
    output.temp_path.write_bytes(b"new")
    commit([output])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif"]
    assert (tmp_path / "dem.tif").read_bytes() == b"new"


def test_commit_refuses_when_an_output_was_never_written(tmp_path):
    written, missing = DeclaredOutput(tmp_path / "a.tif"), DeclaredOutput(tmp_path / "b.tif")
    written.temp_path.write_bytes(b"a")
    with pytest.raises(FileNotFoundError, match="b.tif"):
        commit([written, missing])
    assert not (tmp_path / "a.tif").exists()


def test_discard_removes_temporaries_but_never_final_files(tmp_path):
    (tmp_path / "keep.tif").write_bytes(b"final")
    output = DeclaredOutput(tmp_path / "keep.tif")
    output.temp_path.write_bytes(b"partial")
    output.temp_path.with_name(output.temp_path.name + ".aux.xml").write_text("x")
    discard([output])
    assert [p.name for p in tmp_path.iterdir()] == ["keep.tif"]


def test_remove_dataset_removes_sidecars_too(tmp_path):
    for name in ("a.tif", "a.tif.aux.xml", "ab.tif"):
        (tmp_path / name).write_bytes(b"x")
    remove_dataset(tmp_path / "a.tif")
    assert [p.name for p in tmp_path.iterdir()] == ["ab.tif"]


def test_check_output_path_refusals_name_the_path(tmp_path):
    (tmp_path / "there.tif").write_bytes(b"x")
    with pytest.raises(InputError, match="exists; pass overwrite"):
        check_output_path(tmp_path / "there.tif", overwrite=False)
    assert check_output_path(tmp_path / "there.tif", overwrite=True) == tmp_path / "there.tif"
    with pytest.raises(InputError, match="is a folder"):
        check_output_path(tmp_path, overwrite=True)
    with pytest.raises(InputError, match=r"output folder '.*nowhere' does not exist"):
        check_output_path(tmp_path / "nowhere" / "x.tif", overwrite=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_check_output_path_refuses_a_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(InputError, match="is not writable"):
            check_output_path(tmp_path / "x.tif", overwrite=False)
    finally:
        tmp_path.chmod(0o700)


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="output kind 'mesh'"):
        DeclaredOutput(tmp_path / "x", "mesh")
