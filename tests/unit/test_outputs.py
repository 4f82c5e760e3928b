"""Atomic outputs: temp names next to the target, renamed with sidecars, or all removed."""
from __future__ import annotations

import os

import pytest

from offload.core.errors import InputError, TaskFailed
from offload.core.outputs import (
    DeclaredOutput,
    check_output_path,
    commit,
    discard,
    process_alive,
    remove_dataset,
    replace_file,
    sweep_dead_temps,
    temp_name_for,
    temp_owner,
    written_by_earlier_steps,
)


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
    output = DeclaredOutput(tmp_path / "dem.tif", "raster", overwrite=True)
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


@pytest.mark.parametrize("output, existing", [
    ("zones.shp", ["zones.dbf", "zones.cpg"]), ("zones.gml", ["zones.xsd"]), ("zones.tab", ["zones.map"]),
    ("dem.tif", ["dem.tif.aux.xml"]), ("z.mif", ["z.mid"]),
])
def test_a_file_the_dataset_writes_beside_it_is_not_replaced_without_overwrite(tmp_path, output, existing):
    for name in existing:
        (tmp_path / name).write_bytes(b"the user's own")
    with pytest.raises(InputError, match=f"would replace {', '.join(sorted(existing))} beside it; pass overwrite"):
        check_output_path(tmp_path / output, overwrite=False)
    assert check_output_path(tmp_path / output, overwrite=True) == tmp_path / output
    assert all((tmp_path / name).read_bytes() == b"the user's own" for name in existing)


def test_discard_removes_every_file_named_after_the_temporary_name(tmp_path):
    output = DeclaredOutput(tmp_path / "z.mif")
    for suffix in (".mif", ".mid", ".tab", ".map", ".dat", ".id", ".unheard-of"):
        output.temp_path.with_suffix(suffix).write_bytes(b"x")
    (tmp_path / "z.mid").write_bytes(b"the user's")
    discard([output])
    assert [path.name for path in tmp_path.iterdir()] == ["z.mid"]


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


# -- owners, sweeping and atomic create-or-refuse ----------------------------------------

def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_names_carry_their_owner(tmp_path):
    output = DeclaredOutput(tmp_path / "slope.tif", "raster")
    host, pid = temp_owner(output.temp_path.name)
    assert pid == os.getpid() and len(host) == 4
    assert temp_owner("slope.tif") is None and temp_owner(".slope.offload-abcdef12.tif") is None


def test_sweep_removes_dead_owners_files_and_keeps_live_ones(tmp_path):
    dead = temp_name_for(tmp_path / "dem.tif", pid=_dead_pid())
    dead_stage = dead.with_name(dead.stem + ".stage.tif")  # e.g. a COG's staging file
    live = temp_name_for(tmp_path / "dem.tif")  # this process's
    parent = temp_name_for(tmp_path / "dem.tif", pid=os.getppid())
    other_host = tmp_path / (".dem.offload-zzzz-1-00000000.tif")
    for path in (dead, dead_stage, live, parent, other_host, tmp_path / "dem.tif"):
        path.write_bytes(b"x")
    removed = sweep_dead_temps(tmp_path)
    assert sorted(p.name for p in removed) == sorted([dead.name, dead_stage.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, parent.name, other_host.name, "dem.tif"])


def test_process_alive():
    assert process_alive(os.getpid()) and process_alive(os.getppid())
    assert not process_alive(_dead_pid())


def test_a_new_output_is_refused_when_another_run_made_it_meanwhile(tmp_path):
    ours = DeclaredOutput(tmp_path / "a.tif", "raster", overwrite=False)
    ours.temp_path.write_bytes(b"ours")
    (tmp_path / "a.tif").write_bytes(b"theirs")  # another run published first
    with pytest.raises(TaskFailed, match="created by another run"):
        commit([ours])
    assert (tmp_path / "a.tif").read_bytes() == b"theirs"
    discard([ours])
    assert [p.name for p in tmp_path.iterdir()] == ["a.tif"]


def test_a_refused_output_takes_back_the_outputs_published_before_it(tmp_path):
    first = DeclaredOutput(tmp_path / "first.tif", overwrite=False)
    second = DeclaredOutput(tmp_path / "second.tif", overwrite=False)
    first.temp_path.write_bytes(b"1")
    second.temp_path.write_bytes(b"2")
    (tmp_path / "second.tif").write_bytes(b"theirs")
    with pytest.raises(TaskFailed):
        commit([first, second])
    discard([first, second])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["second.tif"]


def test_gml_names_its_schema_by_the_final_name(tmp_path):
    ogr = pytest.importorskip("osgeo.ogr")
    output = DeclaredOutput(tmp_path / "roads.gml", "vector")
    source = ogr.GetDriverByName("GML").CreateDataSource(str(output.temp_path))
    layer = source.CreateLayer("roads", geom_type=ogr.wkbPoint)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (1 2)"))
    layer.CreateFeature(feature)
    source = layer = feature = None
    commit([output])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roads.gml", "roads.xsd"]
    head = (tmp_path / "roads.gml").read_text()[:2000]
    assert 'xsi:schemaLocation="http://ogr.maptools.org/ roads.xsd' in head
    reopened = ogr.Open(str(tmp_path / "roads.gml"))
    assert reopened.GetLayer(0).GetFeatureCount() == 1
    reopened = None
    assert not (tmp_path / "roads.gfs").exists()  # OGR read the schema, so it guessed nothing


def test_an_input_an_earlier_step_will_write_waits_and_an_existing_one_does_not(tmp_path):
    existing = tmp_path / "dem.tif"
    existing.write_bytes(b"x")
    promised = DeclaredOutput(tmp_path / "slope.tif", "raster")
    assert written_by_earlier_steps([("A=", str(existing))], [promised]) is False
    assert written_by_earlier_steps([("A=", str(existing)), ("B=", str(tmp_path / "slope.tif"))], [promised]) is True
    # a vector source's layer name is not part of its path
    assert written_by_earlier_steps([("", f"{tmp_path / 'slope.tif'}|layername=zones")], [promised]) is True


def test_a_missing_input_no_earlier_step_declares_is_refused_by_name(tmp_path):
    promised = DeclaredOutput(tmp_path / "slope.tif", "raster")
    with pytest.raises(InputError, match=r"input B='.*other.tif' does not exist"):
        written_by_earlier_steps([("B=", str(tmp_path / "other.tif"))], [promised])


def test_replace_file_writes_whole_under_a_temporary_name_and_leaves_none(tmp_path, monkeypatch):
    target = tmp_path / "tile.png"
    target.write_bytes(b"old")
    replace_file(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["tile.png"]
    renamed = []
    monkeypatch.setattr(os, "replace", lambda src, dst: renamed.append((src, dst)))
    replace_file(target, b"newer")  # the rename is the only step that touches the target
    assert target.read_bytes() == b"new" and renamed[0][1] == target and temp_owner(renamed[0][0].name) is not None
