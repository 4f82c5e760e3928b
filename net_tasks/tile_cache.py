"""The tile cache: one file per tile (``z/x/y.ext``): the body as served, then a JSON record of
when it was fetched, when it expires and its ETag, then a trailer giving both lengths.

One file, not the body and a sidecar: creating a file is most of what caching a tile costs
(~0.6 ms of kernel time each on ext4, more on NTFS), and the cache's writer shares the cores
with decoding and compressing. A file is written under a temporary name and renamed (whole or
none), and one whose trailer does not match its size is fetched again, so a kill never leaves
a wrong tile trusted. Freshness comes from the server's headers (``no-cache``, ``max-age``,
``Expires``), else the OSM usage policy's week, unless the user's ``--max-age`` overrides
both. A stale tile with an ETag is asked for conditionally (a 304 renews its record, the body kept).

Pure: stdlib only (the engine decides what is cached; this module only stores and reads).
"""
from __future__ import annotations

import email.utils
import json
import os
import struct
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Dict, Mapping, Optional

from ..core.outputs import replace_file
from .templates import Template

DEFAULT_MAX_AGE_S = 7 * 24 * 3600  # the OSM usage policy's minimum when the server says nothing
MAX_LIFETIME_S = 2.0 ** 31  # RFC 9111's ceiling for a lifetime too large to hold
TRAILER = struct.Struct("<II8s")  # the body's length, the record's length, MAGIC
MAGIC = b"OffloadT"  # version 1 of this layout; a cache of the former layout (a .json sidecar) is fetched again
FORMER_SIDECAR = ".json"  # the former layout's record, beside its tile (``1.png.json``)
MAX_RECORD_BYTES = 2048  # an ETag longer than fits is not kept (the tile is then fetched whole when stale)


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
    """The tile cached at ``path``, or None when missing, cut short, of another layout, or with a
    body larger than ``max_bytes``."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes + MAX_RECORD_BYTES + TRAILER.size:
                return None  # not ours to trust (nothing that large is ever cached): fetch again
            data = f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if len(data) < TRAILER.size or data[-len(MAGIC):] != MAGIC:
        _forget_former_sidecar(path)  # cut short, or the former layout: fetched again, no sidecar outliving it
        return None
    body_bytes, record_bytes, _ = TRAILER.unpack_from(data, len(data) - TRAILER.size)
    if body_bytes + record_bytes + TRAILER.size != len(data) or body_bytes > max_bytes:
        return None  # cut short: fetch again
    try:
        record = json.loads(data[body_bytes:body_bytes + record_bytes])
        return CacheEntry(data[:body_bytes], float(record["fetched"]), float(record["expires"]),
                          str(record.get("etag", "")))
    except (ValueError, KeyError, TypeError):
        return None  # half-known: fetch again


def write_cache(path: Path, body: bytes, headers: Mapping[str, str], now: float,
                renews: Optional[str] = None) -> None:
    """Write the tile with its record, atomically.

    A 304 passes the body already cached and the ETag it confirmed as ``renews``: the record is
    renewed only if the file still holds that tile, so a newer tile another run cached while the
    304 was on its way is not overwritten by the older body.

    A response the server marked ``no-store`` is not kept, and any older copy goes with it
    (RFC 9111 §5.2.2.5: a cache must not store it); the run still uses the tile it was sent.
    """
    if "no-store" in _cache_directives(headers):
        forget_cache(path)
        return
    if renews is not None:
        current = read_cache(path, len(body))
        if current is None or current.etag != renews or current.body != body:
            return  # changed since it was read: the newer copy stays
    etag = headers.get("ETag") or renews or ""  # a 304 need not restate the ETag it confirmed (RFC 9111 §4.3.4)
    fields = {"fetched": now, "expires": now + max_age_from(headers, DEFAULT_MAX_AGE_S), "etag": etag}
    record = json.dumps(fields).encode("utf-8")
    if len(record) > MAX_RECORD_BYTES:  # an ETag too long to keep: the tile is kept without it
        del fields["etag"]
        record = json.dumps(fields).encode("utf-8")
    data = b"".join((body, record, TRAILER.pack(len(body), len(record), MAGIC)))
    try:
        replace_file(path, data)
    except FileNotFoundError:  # the tile's folder, made once (asking first costs every tile a syscall)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, data)


def forget_cache(path: Path) -> None:
    """Remove a cached tile (a body that no longer passes the engine's checks)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _forget_former_sidecar(path: Path) -> None:
    try:
        path.with_name(path.name + FORMER_SIDECAR).unlink()
    except OSError:  # none, or one that cannot go (read-only, a folder): it costs its bytes, never the run
        pass
