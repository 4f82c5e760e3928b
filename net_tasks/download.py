"""Plain file downloads: the request checked into a plan, and the engine.

``validate_file_request`` is what every front end calls before any work; ``run_download``
streams the body to a file, checking size and SHA-256 as it goes, and says what it got.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple
from urllib.parse import unquote, urlsplit

import requests

from ..core.control import Control
from ..core.errors import InputError, TaskFailed
from ..core.metadata import user_agent
from ..core.outputs import replace_file, sweep_dead_temps
from ..core.paths import user_cache_dir
from .http import (
    TRANSFER_ERRORS, BodyRefused, BodyTruncated, Deadline, OffloadSession, body_chunks, raise_if_canceled_or,
)
from .proxies import proxies_for
from .redact import redact_url
from .request import DOWNLOAD_TIMEOUT, MAX_BYTES, FileRequest
from .templates import allowed_schemes

try:
    import fcntl
    msvcrt = None
except ImportError:  # Windows
    fcntl = None
    import msvcrt

CHUNK_BYTES = 256 * 1024
STALL_BYTES = 1024  # --timeout: the longest wait for the answer, and for each further KiB of it
_SHA256 = re.compile(r"[0-9a-f]{64}")


def default_resume_dir() -> Path:
    return user_cache_dir() / "downloads"


@dataclass(frozen=True)
class FilePlan:
    """A checked file request: plain values for the worker thread."""

    url: str
    output: Path
    sha256: Optional[str]  # lower-case hex
    max_bytes: Optional[int]
    timeout_s: float
    user_agent: str
    resume_dir: Path  # where interrupted downloads wait to be resumed
    proxies: Tuple[Tuple[str, str], ...] = ()  # (scheme, proxy URL); empty: the environment's
    overwrite: bool = False


@dataclass(frozen=True)
class DownloadResult:
    """What a download got: the file's size and SHA-256, and how long it took."""

    bytes: int
    sha256: str
    seconds: float
    resumed_bytes: int = 0  # kept from an interrupted run, not fetched again

    def summary(self) -> str:
        resumed = f", resumed after {_megabytes(self.resumed_bytes)}" if self.resumed_bytes else ""
        return f"{_megabytes(self.bytes)}{resumed}, SHA-256 {self.sha256}"


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count} bytes"


def validate_file_request(request: FileRequest) -> FilePlan:
    """Refuse a bad request before any work; return the plan, defaults filled in.

    :raises InputError: naming the bad value.
    """
    try:
        parts = urlsplit(request.url)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError as exc:
        raise InputError(f"URL {redact_url(request.url)!r} is not a URL ({exc})") from None
    schemes = allowed_schemes(request.allow_file_urls)
    shown = redact_url(request.url)
    if parts.scheme not in schemes:
        hint = " (pass allow_file_urls to read local files)" if parts.scheme == "file" else ""
        raise InputError(f"URL scheme {parts.scheme!r} of {shown!r} is not one of {', '.join(schemes)}{hint}")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise InputError(f"URL {shown!r} has no host")
    if parts.scheme == "file" and not Path(unquote(parts.path)).is_file():
        raise InputError(f"file {unquote(parts.path)!r} of URL {shown!r} does not exist")
    sha256 = request.sha256.lower() if request.sha256 else None
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise InputError(f"sha256 {request.sha256!r} is not 64 hexadecimal digits")
    for option in (MAX_BYTES, DOWNLOAD_TIMEOUT):
        option.check(getattr(request, option.name))
    return FilePlan(
        url=request.url,
        output=Path(request.output),
        sha256=sha256,
        max_bytes=request.max_bytes,
        timeout_s=float(request.timeout_s),
        user_agent=request.user_agent or user_agent(),
        resume_dir=Path(request.resume_dir or default_resume_dir()),
        proxies=proxies_for(request.proxies),
        overwrite=request.overwrite,
    )


def run_download(plan: FilePlan, destination: Path, control: Control) -> DownloadResult:
    """Fetch ``plan.url`` into ``destination``; say its size, SHA-256 and time.

    The body streams, a piece at a time, into a partial file in ``plan.resume_dir`` kept
    per URL *and* output and locked while a run uses it; an interrupted download (cancel,
    failure, a dropped connection) is resumed from there by the next run with an HTTP Range
    request, and starts over if the server's file changed (If-Range). The size and the
    checksum are verified on the file as written, read back from disk.
    """
    started = time.monotonic()
    if urlsplit(plan.url).scheme == "file":
        digest, size = _copy_local(plan, destination, control)
        return DownloadResult(size, digest, time.monotonic() - started)
    session = OffloadSession(plan.user_agent, pool_size=1, proxies=dict(plan.proxies))
    remove_hook = control.on_cancel(session.abort)
    try:
        with _Partial(plan) as partial, session.deadline(plan.timeout_s) as deadline:
            try:
                with session.get(plan.url, stream=True, timeout=plan.timeout_s,
                                 headers=partial.headers()) as response:
                    _receive(plan, response, partial, deadline, control)
            except (BodyTruncated, *TRANSFER_ERRORS) as exc:
                control.check_canceled()
                if deadline.expired:
                    raise TaskFailed(f"{redact_url(plan.url)} stalled: less than {STALL_BYTES} bytes came in "
                                     f"{plan.timeout_s:g} s (--timeout)") from None
                had = partial.path.stat().st_size if partial.path.exists() else 0
                if isinstance(exc, BodyTruncated) or (partial.expected_size or 0) > had:
                    # urllib3 1.x returns a short body; 2.x raises on it: one message for both
                    raise TaskFailed(f"{redact_url(plan.url)} ended after {had} of "
                                     f"{partial.expected_size} bytes") from None
                raise_if_canceled_or(control, plan.url, exc)
            digest, size = _verify(plan, partial)
            partial.move_to(destination)
            return DownloadResult(size, digest, time.monotonic() - started, partial.resumed_bytes)
    finally:
        remove_hook()
        session.close()


class _Partial:
    """An interrupted download kept for resuming: the bytes so far, and what validates them.

    One per URL and output, named by a digest of both (never by URL text: no token in a file
    name), and locked while a run uses it: a second run to the same output refuses, two runs
    of one URL to two outputs never share bytes.
    """

    def __init__(self, plan: FilePlan) -> None:
        identity = f"{plan.url}\n{Path(plan.output).absolute()}"
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        plan.resume_dir.mkdir(parents=True, exist_ok=True)
        sweep_dead_temps(plan.resume_dir)
        self.plan = plan
        self.path = plan.resume_dir / f"{key}.part"
        self.meta_path = plan.resume_dir / f"{key}.json"
        self.lock_path = plan.resume_dir / f"{key}.lock"
        self._lock = None
        self.meta, self.size = {}, 0
        self.expected_size: Optional[int] = None  # what the answer promised, counting what we had
        self.resumed_bytes = 0  # what we had, when the server continued it

    def __enter__(self) -> "_Partial":
        self._lock = open(self.lock_path, "a+b")
        if not lock_exclusively(self._lock):
            self._lock.close()
            raise TaskFailed(f"another download to {self.plan.output} is running (it holds {self.lock_path}); "
                             f"wait for it to end")
        try:  # the state is read only under the lock: nobody else writes it now
            self.meta = json.loads(self.meta_path.read_text())
            self.size = self.path.stat().st_size
        except (FileNotFoundError, ValueError):
            self.meta, self.size = {}, 0
        return self

    def __exit__(self, *_exc) -> None:
        self._lock.close()  # closing releases the lock; the lock file stays (removing it would race)

    def headers(self) -> dict:
        validator = self.meta.get("etag") or self.meta.get("last_modified")
        if self.size and validator:
            return {"Range": f"bytes={self.size}-", "If-Range": validator}
        return {}

    def start(self, response: requests.Response, resuming: bool):
        """Open for writing: appending on a 206 that continues us, else from the start."""
        if not resuming:
            self.size = 0
        # Validators only: the URL (and any token in it) is never written here.
        self.meta = {"etag": response.headers.get("ETag", ""),
                     "last_modified": response.headers.get("Last-Modified", "")}
        replace_file(self.meta_path, json.dumps(self.meta).encode("utf-8"))
        return open(self.path, "ab" if resuming else "wb")

    def move_to(self, destination: Path) -> None:
        shutil.move(str(self.path), str(destination))
        self.meta_path.unlink(missing_ok=True)

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)


def lock_exclusively(handle) -> bool:
    """Take an exclusive lock on an open file without waiting; False if another process holds it.

    The operating system drops the lock when its holder ends, however it ends (kill -9 too).
    """
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _receive(plan: FilePlan, response: requests.Response, partial: _Partial, deadline: Deadline,
             control: Control) -> None:
    """Stream the body into the partial file; each STALL_BYTES that arrive push the deadline on."""
    shown = redact_url(plan.url)
    resuming = response.status_code == 206 and response.headers.get("Content-Range", "").startswith(
        f"bytes {partial.size}-")
    if response.status_code != 200 and not resuming:
        raise TaskFailed(f"{shown} answered HTTP {response.status_code} {response.reason}")
    already = partial.size if resuming else 0
    partial.resumed_bytes = already
    length = response.headers.get("Content-Length", "")
    # A compressed transfer's Content-Length counts compressed bytes: no size to expect then.
    encoded = response.headers.get("Content-Encoding", "identity") != "identity"
    expected = int(length) + already if length.isdigit() and not encoded else None
    partial.expected_size = expected
    limit = plan.max_bytes
    if limit is not None and expected is not None and expected > limit:
        raise TaskFailed(f"{shown} is {expected} bytes, more than max_bytes {limit}")
    _check_free_space(plan, expected, already)
    received, since_extended = already, 0
    try:
        with partial.start(response, resuming) as out:
            for piece in body_chunks(response.raw, None if limit is None else limit - already, "max_bytes raises it"):
                control.check_canceled()
                out.write(piece)
                received += len(piece)
                since_extended += len(piece)
                if since_extended >= STALL_BYTES:
                    deadline.extend()
                    since_extended = 0
                control.report(received / expected if expected else 0.0, f"{received / 1e6:.1f} MB")
        control.check_canceled()
    except BodyRefused as exc:
        partial.drop()  # unwanted bytes: nothing worth resuming
        raise TaskFailed(f"{shown} sent {exc}") from None


def _check_free_space(plan: FilePlan, expected: Optional[int], already: int) -> None:
    if expected is None:
        return
    free = shutil.disk_usage(plan.resume_dir).free
    if expected - already > free:
        raise TaskFailed(f"{redact_url(plan.url)} is {expected} bytes; {plan.resume_dir} has only {free} free")


def _verify(plan: FilePlan, partial: _Partial) -> Tuple[str, int]:
    """Size and SHA-256 of the partial file as it is on disk (read back, a piece at a time)."""
    shown = redact_url(plan.url)
    hasher, size = hashlib.sha256(), 0
    with open(partial.path, "rb") as written:
        for piece in iter(lambda: written.read(CHUNK_BYTES), b""):
            hasher.update(piece)
            size += len(piece)
    expected = partial.expected_size
    if expected is not None and size != expected:
        raise TaskFailed(f"{shown} ended after {size} of {expected} bytes")
    digest = hasher.hexdigest()
    if plan.sha256 is not None and digest != plan.sha256:
        partial.drop()  # wrong bytes: nothing worth resuming
        raise TaskFailed(f"{shown} has SHA-256 {digest}, not the expected {plan.sha256}")
    return digest, size


def _copy_local(plan: FilePlan, destination: Path, control: Control) -> Tuple[str, int]:
    source = Path(unquote(urlsplit(plan.url).path))
    size = source.stat().st_size
    if plan.max_bytes is not None and size > plan.max_bytes:
        raise TaskFailed(f"{redact_url(plan.url)} is {size} bytes, more than max_bytes {plan.max_bytes}")
    hasher, copied = hashlib.sha256(), 0
    with open(source, "rb") as src, open(destination, "wb") as out:
        for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
            control.check_canceled()
            hasher.update(chunk)
            out.write(chunk)
            copied += len(chunk)
            control.report(copied / size if size else 1.0)
    digest = hasher.hexdigest()
    if plan.sha256 is not None and digest != plan.sha256:
        raise TaskFailed(f"{redact_url(plan.url)} has SHA-256 {digest}, not the expected {plan.sha256}")
    return digest, copied
