"""Declared outputs: written under a temporary name next to the target, published on success.

A task declares each file it will produce. ``work()`` writes to ``output.temp_path``; only
when ``work()`` succeeded are the file and its sidecars (``.aux.xml``, a shapefile's
``.dbf``, GML's ``.xsd`` …) given their final names. On cancel or failure every temporary
file is deleted, so nothing partial is left behind. An output written inside an existing file
that others may hold open (a layer in a GeoPackage) is never replaced: it carries its own
``in_place`` publish and discard. Loading into a project happens in
``finished()`` on the main thread (``core/loading.py``).

Two rules keep concurrent and killed runs safe:

* **Temporary names carry their owner** (host tag and PID). A run sweeps, beside its output,
  the temporary files of processes on this host that are no longer alive (a killed run's
  leftovers), and never touches those of a live run.
* **Create-or-refuse is atomic.** An output declared without ``overwrite`` is published with
  a hard link, which fails if the name appeared meanwhile: of two runs racing to one new
  name, the second is refused and the first one's file stays.

Pure: stdlib only.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import sys
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Protocol, Tuple

from .errors import InputError, TaskFailed

KINDS = ("raster", "vector", "file")
TEMP_MARK = ".offload-"

# Files GDAL/OGR write beside a dataset, named after it, that must move with it (or go when
# it is replaced): suffixes added to the whole file name …
_SIDECAR_SUFFIXES = (".aux.xml", ".ovr", ".msk", "-wal", "-shm", "-journal")
# … and, per main suffix, the parts that share its stem.
_STEM_PARTS: Dict[str, Tuple[str, ...]] = {
    ".shp": (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd"),
    ".gml": (".xsd", ".gfs"),
    ".tab": (".dat", ".map", ".id", ".ind"),
    ".mif": (".mid",),
}

# A host tag keeps a shared (network) folder safe: a PID means nothing on another machine.
_HOST_TAG = f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')) & 0xFFFF:04x}"
_TEMP_OWNER = re.compile(r"^\..*\.offload-([0-9a-f]{4})-([0-9]+)-[0-9a-f]{8}")


def temp_name_for(final: Path, pid: Optional[int] = None) -> Path:
    """A hidden temporary name beside ``final`` that names its owner, with ``final``'s suffix
    (so GDAL and OGR pick the same driver for it)."""
    owner = os.getpid() if pid is None else pid
    return final.with_name(f".{final.stem}{TEMP_MARK}{_HOST_TAG}-{owner}-{uuid.uuid4().hex[:8]}{final.suffix}")


def temp_owner(name: str) -> Optional[Tuple[str, int]]:
    """``(host tag, pid)`` of a temporary file's owner, or None if ``name`` is not one of ours."""
    match = _TEMP_OWNER.match(name)
    return (match.group(1), int(match.group(2))) if match else None


@dataclass(frozen=True)
class DeclaredOutput:
    """One file a task produces, and how ``finished()`` should present it."""

    path: Path
    kind: str = "file"
    layer_name: str = ""
    style_path: Optional[Path] = None
    group: str = ""
    overwrite: bool = False
    temp_path: Path = field(init=False)
    in_place: Optional["InPlaceWrite"] = None  # written inside an existing file: published by its own commit

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"output kind {self.kind!r} is not one of {', '.join(KINDS)}")
        final = Path(self.path)
        object.__setattr__(self, "path", final)
        object.__setattr__(self, "temp_path", temp_name_for(final))
        if not self.layer_name:
            object.__setattr__(self, "layer_name", final.stem)

    def temp_files(self) -> List[Path]:
        """The temporary file and every file written beside it under its name."""
        if self.in_place is not None:
            return []
        # Every file named after the temporary name, which is this run's alone: a driver may add
        # parts no list here knows of.
        folder, stem = self.temp_path.parent, self.temp_path.stem
        return sorted(entry for entry in (folder.iterdir() if folder.is_dir() else ()) if entry.name.startswith(stem))


class InPlaceWrite(Protocol):
    """Something written inside an existing file (a layer in a GeoPackage) that other programs
    may hold open: published or dropped in that file, which is never replaced."""

    def publish(self) -> None: ...

    def discard(self) -> None: ...


def owner_tag() -> str:
    """This process's host tag and PID, as temporary names carry them."""
    return f"{_HOST_TAG}_{os.getpid()}"


def owner_is_gone(tag: str) -> bool:
    """True when ``tag`` (an ``owner_tag()``) names a process of this host that no longer runs."""
    host, _, pid = tag.partition("_")
    return host == _HOST_TAG and pid.isdigit() and not process_alive(int(pid))


def dataset_files(main: Path) -> List[Path]:
    """``main`` and the sidecars GDAL/OGR write beside it, those that exist on disk."""
    folder = main.parent
    if not folder.is_dir():
        return []
    stem_parts = _STEM_PARTS.get(main.suffix.lower(), ())
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name == main.name or (name.startswith(main.name) and name[len(main.name):] in _SIDECAR_SUFFIXES):
            found.append(entry)
        elif stem_parts and name.startswith(main.stem + ".") and name[len(main.stem):].lower() in stem_parts:
            found.append(entry)
    return found


def replace_file(path: Path, data: bytes) -> None:
    """Write a small file whole or not at all (a cache entry, a resume record): ``data`` under a
    temporary name that names its owner (swept by a later run if this one dies), then renamed
    over ``path``. Datasets, with their sidecars, go through ``DeclaredOutput`` and ``commit``."""
    temp = temp_name_for(path)
    temp.write_bytes(data)
    os.replace(temp, path)


def written_by_earlier_steps(inputs: Iterable[Tuple[str, str]], declared: Iterable[DeclaredOutput]) -> bool:
    """True if some ``inputs`` do not exist yet but are ``declared`` outputs of earlier steps of
    a chain. Inputs are (how the message names it, path) pairs, e.g. ``("A=", "dem.tif")``; a
    path's ``|layername=…`` suffix is ignored.

    :raises InputError: for an input that does not exist and no earlier step declares.
    """
    promised = {output.path for output in declared}
    pending = False
    for named, text in inputs:
        path = Path(str(text).split("|", 1)[0]).absolute()
        if path.exists():
            continue
        if path not in promised:
            raise InputError(f"input {named}{str(text)!r} does not exist")
        pending = True
    return pending


def check_output_path(path: Path, overwrite: bool) -> Path:
    """Refuse an output that cannot be written: a folder, a missing parent, an existing file, or
    (without ``overwrite``) an existing file the dataset writes beside it.

    :raises InputError: naming the path and what is wrong with it.
    """
    path = Path(path).expanduser()
    if path.name == "" or path.is_dir():
        raise InputError(f"output {str(path)!r} is a folder, not a file")
    if not path.parent.is_dir():
        raise InputError(f"output folder {str(path.parent)!r} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"output folder {str(path.parent)!r} is not writable")
    if path.exists() and not overwrite:
        raise InputError(f"output {str(path)!r} exists; pass overwrite to replace it")
    taken = [file.name for file in dataset_files(path)] if not overwrite else []
    if taken:  # a shapefile's .dbf, GML's .xsd, a raster's .aux.xml …: the dataset would replace them
        raise InputError(f"output {str(path)!r} would replace {', '.join(sorted(taken))} beside it; "
                         "pass overwrite to replace them")
    return path.absolute()


def prepare_output(path: Path, overwrite: bool) -> Path:
    """Check an output path (``check_output_path``) and sweep dead runs' leftovers beside it."""
    final = check_output_path(path, overwrite)
    sweep_dead_temps(final.parent)
    return final


def sweep_dead_temps(folder: Path) -> List[Path]:
    """Delete the temporary files in ``folder`` whose owner, a process on this host, is gone.

    Files of live processes, of other hosts, and anything not named by ``temp_name_for`` stay.
    Returns what was removed.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:  # unreadable folder: check_output_path already said what matters
        return removed
    for entry in entries:
        owner = temp_owner(entry.name)
        if owner is None or owner[0] != _HOST_TAG or process_alive(owner[1]):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except FileNotFoundError:  # another run swept it first
            pass
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this PID exists on this host (when unsure: alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence check only (never on Windows, where it kills)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: exists, owned by someone else
        return True
    return True


def _windows_process_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return kernel32.GetLastError() == access_denied
    try:
        code = ctypes.c_ulong()
        return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


@contextmanager
def published(outputs: List[DeclaredOutput]) -> Iterator[List[DeclaredOutput]]:
    """Publish ``outputs`` if the block completes; remove every temporary file whatever happens.

    The one way outputs are produced: by the base task and by Processing alike.
    """
    try:
        yield outputs
        commit(outputs)
    finally:
        discard(outputs)


def commit(outputs: List[DeclaredOutput]) -> None:
    """Give every output's temporary files their final names.

    :raises TaskFailed: when an output declared without ``overwrite`` appeared meanwhile
        (another run made it); nothing of this run is published then.
    """
    for output in outputs:
        if output.in_place is None and not output.temp_path.exists():
            raise FileNotFoundError(f"task finished without writing its output {output.path}")
    claimed = _claim_new_names([o for o in outputs if not o.overwrite])
    try:
        for output in outputs:
            if output.in_place is not None:  # the file stays, with its -wal/-shm: others may have it open
                output.in_place.publish()
                continue
            _point_gml_at_final_schema(output)
            for old in dataset_files(output.path):
                if old != output.path and output.overwrite:  # stale sidecars of a replaced dataset
                    old.unlink()
            for temp in output.temp_files():
                final = _final_name(output, temp)
                if temp == output.temp_path and output in claimed:
                    _unlink_quietly(temp)  # published already, by its hard link
                else:
                    os.replace(temp, final)
    except BaseException:
        for output in claimed:
            _unlink_quietly(output.path)
        raise


def _claim_new_names(outputs: List[DeclaredOutput]) -> List[DeclaredOutput]:
    """Publish each new output's main file under its final name, refusing a name that exists."""
    claimed: List[DeclaredOutput] = []
    for output in outputs:
        if not _publish_exclusively(output.temp_path, output.path):
            for earlier in claimed:
                _unlink_quietly(earlier.path)
            raise TaskFailed(f"output {str(output.path)!r} was created by another run while this one "
                             "worked; it was kept, and nothing of this run was written")
        claimed.append(output)
    return claimed


def _publish_exclusively(temp: Path, final: Path) -> bool:
    """Give ``temp`` the name ``final`` unless that name exists; False if it does.

    A hard link is atomic create-or-fail. Where there are none (FAT, some shares, folders),
    the name is reserved with an exclusive create and the file moved onto the reservation.
    """
    try:
        os.link(temp, final)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EACCES, errno.EMLINK, errno.EISDIR):
            raise
    try:
        if temp.is_dir():
            os.mkdir(final)
        else:
            os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    os.replace(temp, final)
    return True


def _final_name(output: DeclaredOutput, temp: Path) -> Path:
    temp_name, temp_stem = output.temp_path.name, output.temp_path.stem
    if temp.name.startswith(temp_name):
        return output.path.with_name(output.path.name + temp.name[len(temp_name):])
    return output.path.with_name(output.path.stem + temp.name[len(temp_stem):])  # a stem part


_SCHEMA_LOCATION = re.compile(rb'xsi:schemaLocation="([^"]*)"')


def _point_gml_at_final_schema(output: DeclaredOutput) -> None:
    """OGR's GML names its ``.xsd`` inside the file, by the temporary name: point it at the
    final one. Done in place (padding with blanks, which XML's list syntax ignores)."""
    gml = output.temp_path
    if gml.suffix.lower() != ".gml" or not gml.with_suffix(".xsd").exists():
        return
    final_xsd = output.path.with_suffix(".xsd").name.encode("utf-8")
    with open(gml, "r+b") as stream:
        head = stream.read(64 * 1024)
        match = _SCHEMA_LOCATION.search(head)
        if match is None:
            return
        parts = match.group(1).split()
        if not parts or not parts[-1].lower().endswith(b".xsd"):
            return
        value = b" ".join(parts[:-1] + [final_xsd])
        old_length = len(match.group(1))
        if len(value) <= old_length:
            stream.seek(match.start(1))
            stream.write(value.ljust(old_length))
            return
    _rewrite_with(gml, match.start(1), match.end(1), value)


def _rewrite_with(path: Path, start: int, end: int, value: bytes) -> None:
    rewritten = path.with_name(path.name + ".rewrite")
    with open(path, "rb") as source, open(rewritten, "wb") as target:
        target.write(source.read(start))
        target.write(value)
        source.seek(end)
        shutil.copyfileobj(source, target, 1024 * 1024)
    os.replace(rewritten, path)


def remove_dataset(path: Path) -> None:
    """Delete a dataset and its sidecars, if they exist."""
    for file in dataset_files(Path(path)):
        file.unlink()


def discard(outputs: List[DeclaredOutput]) -> None:
    """Delete whatever temporary files the outputs left behind (never the final files)."""
    for output in outputs:
        if output.in_place is not None:
            output.in_place.discard()
        for temp in output.temp_files():
            _unlink_quietly(temp)


def _unlink_quietly(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
