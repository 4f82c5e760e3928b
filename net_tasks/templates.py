"""Tile URL templates: parse, check, fill in; tile-server usage policies.

Pure: stdlib only. Placeholders: ``{z} {x} {y}``, ``{-y}`` (TMS row), ``{q}`` (quadkey) and
``{s}`` (a subdomain, rotating over the given letters).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Tuple
from urllib.parse import urlsplit

from ..core.errors import InputError
from .redact import redact_url
from .tiles import Tile, quadkey, tms_row

PLACEHOLDER = re.compile(r"\{(-?[a-z]+)\}")
KNOWN = {"z", "x", "y", "-y", "q", "s"}
# Operators who forbid bulk downloads (tile.openstreetmap.org's usage policy): capped at
# 5,000 tiles whatever --max-tiles says, as QGIS core and QTiles do.
BULK_FORBIDDEN_HOSTS = ("tile.openstreetmap.org",)
BULK_FORBIDDEN_LIMIT = 5000


@dataclass(frozen=True)
class Template:
    """A checked URL template."""

    text: str
    subdomains: Tuple[str, ...] = ()

    def url(self, tile: Tile) -> str:
        tile = tile.wrapped()
        values = {"z": tile.z, "x": tile.x, "y": tile.y, "-y": tms_row(tile)}
        if "{q}" in self.text:
            values["q"] = quadkey(tile)
        if self.subdomains:
            values["s"] = self.subdomains[(tile.x + tile.y) % len(self.subdomains)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)

    @property
    def host(self) -> str:
        return (urlsplit(self.text.replace("{s}", self.subdomains[0] if self.subdomains else "a")).hostname or "")

    @property
    def bulk_forbidden(self) -> bool:
        host = self.host.lower()
        return any(host == h or host.endswith("." + h) for h in BULK_FORBIDDEN_HOSTS)


def allowed_schemes(allow_file_urls: bool) -> Tuple[str, ...]:
    """URL schemes Offload fetches: http(s), and file only when explicitly allowed."""
    return ("http", "https", "file") if allow_file_urls else ("http", "https")


def parse_template(text: str, subdomains: str = "", allow_file_urls: bool = False) -> Template:
    """Check a template; refuse bad placeholders, schemes and subdomain lists.

    :raises InputError: naming the bad part.
    """
    try:
        scheme = urlsplit(text).scheme
    except ValueError as exc:  # "Invalid IPv6 URL": a bracket left open
        raise InputError(f"host {_authority(text)!r} of the template is not a host name or address: {exc}") from None
    shown = redact_url(text)  # a key in the template never reaches a message
    allowed = allowed_schemes(allow_file_urls)
    if scheme not in allowed:
        hint = " (pass --allow-file-urls to read local tiles)" if scheme == "file" else ""
        raise InputError(f"URL scheme {scheme!r} of template {shown!r} is not one of {', '.join(allowed)}{hint}")
    found = set(PLACEHOLDER.findall(text))
    unknown = sorted(found - KNOWN)
    if unknown:
        raise InputError(f"placeholder {{{unknown[0]}}} in template {shown!r} is not one of "
                         "{z} {x} {y} {-y} {q} {s}")
    if not ({"z", "x"} <= found and found & {"y", "-y"}) and "q" not in found:
        raise InputError(f"template {shown!r} has neither {{z}}, {{x}} and {{y}} (or {{-y}}) nor {{q}}")
    letters = tuple(subdomains)
    if "s" in found and not letters:
        raise InputError(f"template {shown!r} uses {{s}}: pass the subdomains (e.g. abc)")
    if letters and not all(re.fullmatch(r"[a-z0-9]", c) for c in letters):
        raise InputError(f"subdomains {subdomains!r} are not single letters or digits")
    if scheme != "file":
        parts = urlsplit(text.replace("{s}", letters[0] if letters else "a"))
        if not parts.hostname:
            raise InputError(f"template {shown!r} has no host")
        try:
            port = parts.port
        except ValueError:  # not a number, or past 65535
            port = 0
        if port is not None and not 1 <= port <= 65535:
            raise InputError(f"port {_authority(text).rpartition(':')[2]!r} of template {shown!r} is not a number "
                             f"within 1-65535")
    return Template(text, letters if "s" in found else ())


def _authority(text: str) -> str:
    """A URL's host[:port] as typed, without the userinfo (it may hold a password)."""
    return re.split(r"[/?#]", text.partition("://")[2], maxsplit=1)[0].rpartition("@")[2]
