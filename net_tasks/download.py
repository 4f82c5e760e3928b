"""Plain file downloads: the request, its validation, and the engine.

``validate_file_request`` is what every front end calls before any work;
``run_download`` streams the body to a file, checking size and SHA-256 as it goes.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

import requests

from ..core.control import Control
from ..core.errors import InputError, TaskFailed
from ..core.metadata import user_agent
from .http import OffloadSession, raise_if_canceled_or

CHUNK_BYTES = 256 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileRequest:
    """One file to fetch, and how."""

    url: str
    output: Path
    sha256: Optional[str] = None
    max_bytes: Optional[int] = None
    timeout_s: float = 30.0
    user_agent: str = ""
    allow_file_urls: bool = False
    overwrite: bool = False


def allowed_schemes(allow_file_urls: bool) -> tuple:
    return ("http", "https", "file") if allow_file_urls else ("http", "https")


def validate_file_request(request: FileRequest) -> FileRequest:
    """Refuse a bad request before any work; return it with defaults filled in.

    :raises InputError: naming the bad value.
    """
    parts = urlsplit(request.url)
    schemes = allowed_schemes(request.allow_file_urls)
    if parts.scheme not in schemes:
        hint = " (pass allow_file_urls to read local files)" if parts.scheme == "file" else ""
        raise InputError(f"URL scheme {parts.scheme!r} of {request.url!r} is not one of {', '.join(schemes)}{hint}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise InputError(f"URL {request.url!r} has no host")
    if parts.scheme == "file" and not Path(unquote(parts.path)).is_file():
        raise InputError(f"file {unquote(parts.path)!r} of URL {request.url!r} does not exist")
    sha256 = request.sha256.lower() if request.sha256 else None
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise InputError(f"sha256 {request.sha256!r} is not 64 hexadecimal digits")
    if request.max_bytes is not None and request.max_bytes <= 0:
        raise InputError(f"max_bytes {request.max_bytes} is not a positive number of bytes")
    if not request.timeout_s > 0:
        raise InputError(f"timeout {request.timeout_s} is not a positive number of seconds")
    return FileRequest(
        url=request.url,
        output=Path(request.output),
        sha256=sha256,
        max_bytes=request.max_bytes,
        timeout_s=float(request.timeout_s),
        user_agent=request.user_agent or user_agent(),
        allow_file_urls=request.allow_file_urls,
        overwrite=request.overwrite,
    )


class _Checked:
    """Counts and hashes what is written; enforces the byte limit."""

    def __init__(self, request: FileRequest, expected_bytes: Optional[int]) -> None:
        self.request = request
        self.expected_bytes = expected_bytes
        self.received = 0
        self.hasher = hashlib.sha256()
        if request.max_bytes is not None and expected_bytes is not None and expected_bytes > request.max_bytes:
            raise TaskFailed(f"{request.url} is {expected_bytes} bytes, more than max_bytes {request.max_bytes}")

    def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.request.max_bytes is not None and self.received > self.request.max_bytes:
            raise TaskFailed(f"{self.request.url} sent more than max_bytes {self.request.max_bytes}")
        self.hasher.update(chunk)

    def fraction(self) -> float:
        return self.received / self.expected_bytes if self.expected_bytes else 0.0

    def finish(self) -> str:
        if self.expected_bytes is not None and self.received != self.expected_bytes:
            raise TaskFailed(
                f"{self.request.url} ended after {self.received} of {self.expected_bytes} bytes"
            )
        digest = self.hasher.hexdigest()
        if self.request.sha256 is not None and digest != self.request.sha256:
            raise TaskFailed(f"{self.request.url} has SHA-256 {digest}, not the expected {self.request.sha256}")
        return digest


def run_download(request: FileRequest, destination: Path, control: Control) -> str:
    """Fetch ``request.url`` into ``destination``; return the body's SHA-256."""
    if urlsplit(request.url).scheme == "file":
        return _copy_local(request, destination, control)
    session = OffloadSession(request.user_agent, pool_size=1)
    remove_hook = control.on_cancel(session.abort)
    try:
        with session.get(request.url, stream=True, timeout=request.timeout_s) as response:
            return _receive(request, response, destination, control)
    except requests.RequestException as exc:
        raise_if_canceled_or(control, request.url, exc)
        raise
    finally:
        remove_hook()
        session.close()


def _receive(request: FileRequest, response: requests.Response, destination: Path, control: Control) -> str:
    if response.status_code != 200:
        raise TaskFailed(f"{request.url} answered HTTP {response.status_code} {response.reason}")
    length = response.headers.get("Content-Length")
    # A compressed transfer's Content-Length counts compressed bytes; only trust it otherwise.
    encoded = response.headers.get("Content-Encoding", "identity") != "identity"
    checked = _Checked(request, int(length) if length and length.isdigit() and not encoded else None)
    with open(destination, "wb") as out:
        for chunk in response.iter_content(CHUNK_BYTES):
            control.check_canceled()
            checked.add(chunk)
            out.write(chunk)
            control.report(checked.fraction(), f"{checked.received / 1e6:.1f} MB")
    control.check_canceled()
    return checked.finish()


def _copy_local(request: FileRequest, destination: Path, control: Control) -> str:
    source = Path(unquote(urlsplit(request.url).path))
    checked = _Checked(request, source.stat().st_size)
    with open(source, "rb") as src, open(destination, "wb") as out:
        for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
            control.check_canceled()
            checked.add(chunk)
            out.write(chunk)
            control.report(checked.fraction())
    return checked.finish()



