"""Plain file downloads: the request, its validation, and the engine.

``validate_file_request`` is what every front end calls before any work;
``run_download`` streams the body to a file, checking size and SHA-256 as it goes.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple
from urllib.parse import unquote, urlsplit

import requests

from ..core.control import Control
from ..core.errors import InputError, TaskFailed
from ..core.metadata import user_agent
from ..core.paths import user_cache_dir
from .http import OffloadSession, raise_if_canceled_or
from .templates import allowed_schemes

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
    resume_dir: Optional[Path] = None  # where interrupted downloads wait to be resumed
    proxies: Optional[Tuple[Tuple[str, str], ...]] = None  # (scheme, proxy URL); None: the environment


def default_resume_dir() -> Path:
    return user_cache_dir() / "downloads"


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
        resume_dir=Path(request.resume_dir or default_resume_dir()),
        proxies=request.proxies,
    )


class _Checked:
    """Counts and hashes what is written; enforces the byte limit."""

    def __init__(self, request: FileRequest, expected_bytes: Optional[int], already: bytes = b"") -> None:
        self.request = request
        self.expected_bytes = expected_bytes
        self.received = len(already)
        self.hasher = hashlib.sha256(already)
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
    """Fetch ``request.url`` into ``destination``; return the body's SHA-256.

    The body streams into a partial file in ``request.resume_dir``; an interrupted download
    (cancel, failure, a dropped connection) is resumed from there by the next run with an
    HTTP Range request, and starts over if the server's file changed (If-Range).
    """
    if urlsplit(request.url).scheme == "file":
        return _copy_local(request, destination, control)
    partial = _Partial(request)
    session = OffloadSession(request.user_agent, pool_size=1, proxies=dict(request.proxies or ()))
    remove_hook = control.on_cancel(session.abort)
    try:
        with session.get(request.url, stream=True, timeout=request.timeout_s, headers=partial.headers()) as response:
            digest = _receive(request, response, partial, control)
        partial.move_to(destination)
        return digest
    except requests.RequestException as exc:
        raise_if_canceled_or(control, request.url, exc)
        raise
    finally:
        remove_hook()
        session.close()


class _Partial:
    """An interrupted download kept for resuming: the bytes so far, and what validates them."""

    def __init__(self, request: FileRequest) -> None:
        key = hashlib.sha256(request.url.encode("utf-8")).hexdigest()[:32]
        request.resume_dir.mkdir(parents=True, exist_ok=True)
        self.path = request.resume_dir / f"{key}.part"
        self.meta_path = request.resume_dir / f"{key}.json"
        try:
            self.meta = json.loads(self.meta_path.read_text())
            self.size = self.path.stat().st_size if self.meta.get("url") == request.url else 0
        except (FileNotFoundError, ValueError):
            self.meta, self.size = {}, 0
        self.url = request.url

    def headers(self) -> dict:
        validator = self.meta.get("etag") or self.meta.get("last_modified")
        if self.size and validator:
            return {"Range": f"bytes={self.size}-", "If-Range": validator}
        return {}

    def start(self, response: requests.Response, resuming: bool):
        """Open for writing: appending on a 206 that continues us, else from the start."""
        if not resuming:
            self.size = 0
        self.meta = {"url": self.url, "etag": response.headers.get("ETag", ""),
                     "last_modified": response.headers.get("Last-Modified", "")}
        self.meta_path.write_text(json.dumps(self.meta))
        return open(self.path, "ab" if resuming else "wb")

    def existing(self) -> bytes:
        return self.path.read_bytes()[: self.size] if self.size else b""

    def move_to(self, destination: Path) -> None:
        shutil.move(str(self.path), str(destination))
        self.meta_path.unlink(missing_ok=True)

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)


def _receive(request: FileRequest, response: requests.Response, partial: _Partial, control: Control) -> str:
    resuming = response.status_code == 206 and response.headers.get("Content-Range", "").startswith(
        f"bytes {partial.size}-")
    if response.status_code != 200 and not resuming:
        raise TaskFailed(f"{request.url} answered HTTP {response.status_code} {response.reason}")
    already = partial.existing() if resuming else b""
    length = response.headers.get("Content-Length")
    # A compressed transfer's Content-Length counts compressed bytes; only trust it otherwise.
    encoded = response.headers.get("Content-Encoding", "identity") != "identity"
    expected = int(length) + len(already) if length and length.isdigit() and not encoded else None
    checked = _Checked(request, expected, already)
    try:
        with partial.start(response, resuming) as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                control.check_canceled()
                checked.add(chunk)
                out.write(chunk)
                control.report(checked.fraction(), f"{checked.received / 1e6:.1f} MB")
        control.check_canceled()
        return checked.finish()
    except TaskFailed as exc:
        if "SHA-256" in str(exc) or "max_bytes" in str(exc):
            partial.drop()  # wrong or unwanted bytes: nothing worth resuming
        raise


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



