"""Read the plugin's ``metadata.txt``: the one place the version is written.

Pure: stdlib only.
"""
from __future__ import annotations

import configparser
from functools import lru_cache
from pathlib import Path

METADATA_PATH = Path(__file__).resolve().parents[1] / "metadata.txt"


@lru_cache(maxsize=None)
def metadata() -> dict:
    """The ``[general]`` section of metadata.txt as a dict."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(METADATA_PATH, encoding="utf-8")
    return dict(parser["general"])


def version() -> str:
    """Offload's version, e.g. ``0.1.0``."""
    return metadata()["version"]


def user_agent() -> str:
    """The HTTP User-Agent that names Offload, its version and where to find it."""
    return f"Offload/{version()} (+{metadata()['homepage']})"
