"""Where Offload keeps per-user files. Pure: stdlib only."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/offload`` (``~/.cache/offload`` by default): tile caches, resumable downloads."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "offload"
