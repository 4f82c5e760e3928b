"""The tile cache: one file per tile (``z/x/y.ext``) and a JSON sidecar saying when it expires.

A tile is written atomically (a whole body or none); its sidecar is written in place after
it, and a tile without a readable sidecar is fetched again, so a kill never leaves a wrong
tile trusted. Freshness comes from the server's headers (``no-cache``, ``max-age``,
``Expires``), else the OSM usage policy's week, unless the user's ``--max-age`` overrides
both. A stale tile with an ETag is asked for conditionally (a 304 renews its sidecar only).

Pure: stdlib only (the engine decides what is cached; this module only stores and reads).
"""
from __future__ import annotations

import email.utils
import json
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Dict, Mapping, Optional

from ..core.outputs import replace_file
from .templates import Template

DEFAULT_MAX_AGE_S = 7 * 24 * 3600  # the OSM usage policy's minimum when the server says nothing
MAX_LIFETIME_S = 2.0 ** 31  # RFC 9111's ceiling for a lifetime too large to hold


@dataclass(frozen=True)
class CacheEntry:
    """A cached tile: its body, when it was fetched, when it expires, its ETag."""

    body: bytes
    fetched: float
    expires: float
    etag: str = ""

    def fresh(self, max_age_s: Optional[float], now: float) -> bool:
        """Fresh by --max-age when given, else by the server's expiry headers."""
        return now - self.fetched < max_age_s if max_age_s is not None else now < self.expires


def max_age_from(headers: Mapping[str, str], default_s: float) -> float:
    """Seconds a tile stays fresh, as a private cache reads a server's answer (RFC 9111 §4.2.1).

    ``no-cache``/``no-store``: none (asked again each time; a 304 costs little). Else
    ``Cache-Control: max-age``, else ``Expires`` minus the server's ``Date`` (an ``Expires``
    that is no date: already stale), else ``default_s``.
    """
    directives = _cache_directives(headers)
    if "no-cache" in directives or "no-store" in directives:
        return 0.0
    max_age = directives.get("max-age", "")
    if max_age.isascii() and max_age.isdigit():  # HTTP's digits: '²' is one to str.isdigit
        return min(float(max_age), MAX_LIFETIME_S)
    if headers.get("Expires") and headers.get("Date"):
        expires, date = _http_time(headers["Expires"]), _http_time(headers["Date"])
        if date is not None:
            return 0.0 if expires is None else min(max(expires - date, 0.0), MAX_LIFETIME_S)
    return default_s


def _cache_directives(headers: Mapping[str, str]) -> Dict[str, str]:
    """``Cache-Control``'s directives, names lower-cased (the first of a repeated one wins)."""
    directives: Dict[str, str] = {}
    for part in (headers.get("Cache-Control") or "").split(","):
        key, _, value = part.partition("=")
        directives.setdefault(key.strip().lower(), value.strip())
    return directives


def _http_time(text: str) -> Optional[float]:
    try:
        when = email.utils.parsedate_to_datetime(text)
        return when.replace(tzinfo=when.tzinfo or timezone.utc).timestamp()  # "-0000" is UTC
    except (TypeError, ValueError, OverflowError):
        return None


def cache_extension(template: Template) -> str:
    """The cached files' extension: the template's own (``png``, ``jpg``…), else ``img``."""
    tail = template.text.rsplit("/", 1)[-1].split("?", 1)[0]
    extension = tail.rsplit(".", 1)[-1].lower() if "." in tail else "img"
    return extension if extension.isalnum() and len(extension) <= 5 else "img"


def read_cache(path: Path, max_bytes: int) -> Optional[CacheEntry]:
    """The tile cached at ``path``, or None when missing, half-written or larger than ``max_bytes``."""
    try:
        meta = json.loads(_meta_path(path).read_text())
        if path.stat().st_size > max_bytes:
            return None  # not ours to trust (nothing that large is ever cached): fetch again
        return CacheEntry(path.read_bytes(), float(meta["fetched"]), float(meta["expires"]), str(meta.get("etag", "")))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None  # missing or half-known: fetch again


def write_cache(path: Path, body: Optional[bytes], headers: Mapping[str, str], now: float) -> None:
    """Write the tile (unless ``body`` is None: a 304 only renews it), atomically, then its sidecar.

    A response the server marked ``no-store`` is not kept, and any older copy goes with it
    (RFC 9111 §5.2.2.5: a cache must not store it); the run still uses the tile it was sent.

    The sidecar is written in place: one rename less per tile (the cache costs a download
    of many small tiles ~10% of its speed). A sidecar cut short is not JSON, and a tile
    without a readable sidecar is fetched again, so a kill never makes a wrong tile count.
    """
    if "no-store" in _cache_directives(headers):
        forget_cache(path)
        return
    meta = {"fetched": now, "expires": now + max_age_from(headers, DEFAULT_MAX_AGE_S),
            "etag": headers.get("ETag", "")}
    data = json.dumps(meta).encode("utf-8")
    try:
        _write_files(path, body, data)
    except FileNotFoundError:  # the tile's folder, made once (asking first costs every tile a syscall)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_files(path, body, data)


def _write_files(path: Path, body: Optional[bytes], meta: bytes) -> None:
    if body is not None:
        replace_file(path, body)
    replace_file(_meta_path(path), meta)  # whole or not at all, like the body


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def forget_cache(path: Path) -> None:
    """Remove a cached tile and its sidecar (a body that no longer passes the engine's checks)."""
    for stale in (path, _meta_path(path)):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass
