"""Where Offload keeps per-user files, and what a path names. Pure: stdlib only."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/offload`` (``~/.cache/offload`` by default): tile caches, resumable downloads."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "offload"


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file; False when either is missing or no file path (a GDAL
    connection string)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False
