"""Declared outputs: written under a temporary name next to the target, renamed on success.

A task declares each file it will produce. ``work()`` writes to ``output.temp_path``;
only when ``work()`` succeeded does the base task rename it (and its sidecars, such as
``.aux.xml`` or a shapefile's ``.dbf``) to the final name. On cancel or failure every
file that starts with the temporary stem is deleted, so nothing partial is left behind.
Loading into a project happens in ``finished()`` on the main thread (``core/loading.py``).

Pure: stdlib only.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from .errors import InputError

KINDS = ("raster", "vector", "file")
TEMP_MARK = ".offload-"

# Files that belong to a dataset and must move with it (or go when it is replaced).
_SIDECAR_SUFFIXES = (".aux.xml", ".ovr", ".msk", "-wal", "-shm", "-journal")
_SHAPEFILE_PARTS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")


@dataclass(frozen=True)
class DeclaredOutput:
    """One file a task produces, and how ``finished()`` should present it."""

    path: Path
    kind: str = "file"
    layer_name: str = ""
    style_path: Optional[Path] = None
    group: str = ""
    temp_path: Path = field(init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"output kind {self.kind!r} is not one of {', '.join(KINDS)}")
        final = Path(self.path)
        object.__setattr__(self, "path", final)
        # Keep the suffix so GDAL/OGR pick the same driver for the temporary file.
        temp = final.with_name(f".{final.stem}{TEMP_MARK}{uuid.uuid4().hex[:8]}{final.suffix}")
        object.__setattr__(self, "temp_path", temp)
        if not self.layer_name:
            object.__setattr__(self, "layer_name", final.stem)

    def temp_files(self) -> List[Path]:
        """The temporary file and every sidecar written beside it."""
        return _dataset_files(self.temp_path)


def _dataset_files(main: Path) -> List[Path]:
    """``main`` and its sidecars (same stem) that exist on disk."""
    folder = main.parent
    if not folder.is_dir():
        return []
    stem = main.stem
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name == main.name or (name.startswith(main.name) and name[len(main.name):] in _SIDECAR_SUFFIXES):
            found.append(entry)
        elif main.suffix.lower() == ".shp" and name.startswith(stem + ".") and entry.suffix.lower() in _SHAPEFILE_PARTS:
            found.append(entry)
    return found


def check_output_path(path: Path, overwrite: bool) -> Path:
    """Refuse an output that cannot be written: a folder, a missing parent, an existing file.

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
    return path.absolute()


def commit(outputs: List[DeclaredOutput]) -> None:
    """Rename every output's temporary files to their final names."""
    for output in outputs:
        if not output.temp_path.exists():
            raise FileNotFoundError(f"task finished without writing its output {output.path}")
    for output in outputs:
        for old in _dataset_files(output.path):
            if old != output.path:  # stale sidecars of a replaced dataset
                old.unlink()
        temp_name = output.temp_path.name
        temp_stem = output.temp_path.stem
        for temp in output.temp_files():
            if temp.name.startswith(temp_name):
                final = output.path.with_name(output.path.name + temp.name[len(temp_name):])
            else:  # shapefile part: same stem, other suffix
                final = output.path.with_name(output.path.stem + temp.name[len(temp_stem):])
            os.replace(temp, final)


def remove_dataset(path: Path) -> None:
    """Delete a dataset and its sidecars, if they exist."""
    for file in _dataset_files(Path(path)):
        file.unlink()


def discard(outputs: List[DeclaredOutput]) -> None:
    """Delete whatever temporary files the outputs left behind (never the final files)."""
    for output in outputs:
        for temp in output.temp_files():
            try:
                temp.unlink()
            except FileNotFoundError:
                pass
