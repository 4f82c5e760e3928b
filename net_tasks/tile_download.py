"""Tiled downloads: the scheduler that fetches a checked plan's tiles.

``tile_plan.validate_tile_request`` refuses bad input before any request; ``run_tiles`` fetches on
``workers`` threads sharing one session (never more connections than workers), retries on a
timed queue, and hands each tile to its sink as it arrives, so memory does not grow with the
tile count. The rest lives beside it: the disk cache (``tile_cache``), checking and decoding
a tile (``tile_decode``), the mosaic (``tile_mosaic``) and the packages (``tile_package``).
"""
from __future__ import annotations

import heapq
import itertools
import os
import queue
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..core.control import Control
from ..core.errors import TaskFailed
from ..core.log import WARNING, log
from ..core.ordered_writer import OrderedWriter
from .fetch import Answer, Limiter, attempt, backoff_s
from .http import OffloadSession
from .tile_cache import TileCache
from .tile_decode import tile_problem
from .tile_mosaic import MosaicSink
from .tile_package import PackageSink
from .tile_package import tile_problem as whole_tile_problem
from .tile_plan import TilePlan
from .tiles import Tile

# -- the scheduler -------------------------------------------------------------------------------

@dataclass
class TileResult:
    """What a tile download did, as the user is told it."""

    fetched: int = 0  # downloaded (a 200 whose body passed every check)
    cached: int = 0  # taken from the cache: fresh, or confirmed unchanged by a 304
    missing: int = 0  # the server has no tile there (404, 204): nodata in a mosaic, absent from a package
    failed: int = 0  # failed every attempt (left out only with --allow-missing)
    retries: int = 0
    kept: int = 0  # already in the package a rerun adds to: neither fetched nor counted as done work
    bytes_fetched: int = 0  # tile bodies received over the network
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.fetched + self.cached + self.missing + self.failed

    def summary(self) -> str:
        """One line: ``1,024 tiles in 7.8 s: 1,000 downloaded (20.5 MB), 24 from the cache``."""
        parts = [f"{self.fetched:,} downloaded ({self.bytes_fetched / 1e6:.1f} MB)"]
        for count, what in ((self.cached, "from the cache"), (self.kept, "already in the package"),
                            (self.missing, "missing on the server"), (self.failed, "failed"),
                            (self.retries, "retries")):
            if count:
                parts.append(f"{count:,} {what}")
        return f"{self.done + self.kept:,} tiles: " + ", ".join(parts)


@dataclass
class _Outcome:
    """What one job for a tile gave (computed in a worker)."""

    tile: Tile
    attempt: int
    kind: str  # fetched | cached | missing | retry | failed | refetch (a cached body that did not decode)
    payload: object = None  # the body; for a mosaic, its RGBA pixels once decoded
    size: int = 0  # bytes received over the network
    from_cache: bool = False  # the body is the cache's copy
    keep: Optional[tuple] = None  # what to hand the cache's writer once the body decodes
    problem: str = ""
    wait_s: Optional[float] = None
    throttled: bool = False


def run_tiles(plan: TilePlan, destination: Path, control: Control) -> TileResult:
    """Fetch every tile of ``plan`` into ``destination``: a mosaic, or a package (added to when it exists).

    This thread schedules: it keeps at most ``limiter.allowed`` requests in flight, puts a
    tile that must be retried in a timed queue (so no worker ever sleeps), and hands each tile
    to the sink (``MosaicSink`` or ``PackageSink``, each writing on a thread of its own) as it
    arrives. A mosaic's tiles are decoded on a pool of their own, about one thread per core
    (``decoding_threads``; GDAL releases the GIL while it decodes), so a network worker goes back
    to the network at once and decoding uses every core. Tiles are taken from the ranges one at
    a time, never listed.
    """
    started = time.monotonic()
    result, failures = TileResult(), _Failures()
    limiter = Limiter(plan.workers)
    total = plan.total
    delayed: list = []  # heap of (due, sequence, tile, attempt)
    rng = random.Random(str(plan.tiles))  # jitter that differs per job, repeatable per request
    session = OffloadSession(plan.user_agent, pool_size=plan.workers, proxies=dict(plan.proxies))
    remove_hook = control.on_cancel(session.abort)
    sink = cache_writer = None
    # A package keeps the bytes itself (a rerun into it fetches only what it lacks): it reads the cache, never writes it.
    cache = TileCache(plan.cache_dir, create=not plan.is_package, warn=lambda message: log(message, WARNING),
                      max_bytes=plan.cache_max_bytes)
    try:
        if not plan.is_package:  # read on the network workers, written on a thread of its own
            cache_writer = OrderedWriter(lambda item: cache.write(*item), capacity=4 * plan.workers,
                                         name="offload-cache")
        sink = PackageSink(plan, destination) if plan.is_package else MosaicSink(plan, destination, control)
        held = sink.held()
        share = 1.0 if plan.is_package or (plan.format == "GTiff" and len(plan.zooms) == 1) else 0.9  # then overviews
        first_attempts = (t for r in plan.ranges() for t in r.tiles() if t.wrapped() not in held)
        result.kept = sum(1 for r in plan.ranges() for t in r.tiles() if t.wrapped() in held) if held else 0
        to_fetch = total - result.kept
        planned = 0
        decoders = 0 if plan.is_package else decoding_threads(sink.writing_threads)
        finished: "queue.SimpleQueue[tuple]" = queue.SimpleQueue()  # (stage, outcome) as each job ends
        with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="offload-tiles") as pool, \
                ThreadPoolExecutor(max_workers=max(1, decoders), thread_name_prefix="offload-decode") as decoding:
            in_flight = decodes = 0
            while planned < to_fetch or delayed or in_flight or decodes:
                control.check_canceled()
                now = time.monotonic()
                # bodies waiting to be decoded are bounded too: the network never outruns the cores by much
                while in_flight < limiter.allowed and decodes < 2 * plan.workers:
                    if delayed and delayed[0][0] <= now:
                        _, _, tile, number = heapq.heappop(delayed)
                    elif planned < to_fetch:
                        tile, number, planned = next(first_attempts), 0, planned + 1
                    else:
                        break
                    pool.submit(_reported, finished, _FETCHED, _job, plan, tile, number, cache, session, control)
                    in_flight += 1
                next_due = delayed[0][0] - now if delayed else 0.05
                try:
                    ended = [finished.get(timeout=max(0.001, min(0.05, next_due)))]
                except queue.Empty:
                    continue
                while not finished.empty():  # all that ended meanwhile, for one pass of this loop
                    ended.append(finished.get())
                for stage, outcome in ended:
                    if stage is _FAILED:
                        raise outcome  # what a job raised (a cancel seen in a worker, or a bug)
                    if stage is _FETCHED:
                        in_flight -= 1
                        if decoders and outcome.kind in ("fetched", "cached"):
                            decoding.submit(_reported, finished, _DECODED, _decode, outcome, sink.decode,
                                            cache_writer.put, cache.forget)
                            decodes += 1
                            continue
                    else:
                        decodes -= 1
                        if outcome.kind == "refetch":  # its cached copy did not decode, and is gone
                            heapq.heappush(delayed, (now, next(_SEQUENCE), outcome.tile, outcome.attempt))
                            continue
                    _settle(outcome, plan, sink, result, failures, limiter, delayed, rng, control)
                control.report(share * (result.done + result.kept) / total, f"{result.done + result.kept} of {total} tiles")
        if failures and (not plan.allow_missing or result.failed == to_fetch):
            raise TaskFailed(failures.summary(to_fetch, plan.allow_missing))
        sink.close()
        if cache_writer is not None:
            cache_writer.close()
        cache.close(completed=True)  # held to its bound only now: a cancel or failure closes at once
    finally:
        remove_hook()
        session.close()
        if cache_writer is not None:
            try:  # canceled or failed: what is queued is whole, checked tiles, worth keeping for a rerun
                cache_writer.close()
            except Exception:  # noqa: BLE001 (the run's own error is the one to report)
                pass
        cache.close()  # commits the last batch, on every path (done if completed)
        if sink is not None:
            sink.abandon()  # the file's handle must close before the base task removes or publishes it
    result.seconds = time.monotonic() - started
    return result


def decoding_threads(writing_threads: int) -> int:
    """Threads that decode a mosaic's tiles: with the sink's ``writing_threads`` that compress, one more
    than the cores. An assembled COG's overview blocks have a thread of their own, and one decoding
    thread per core left one more: in QGIS at 16 workers, 1,024 tiles to a COG took 2.89 s against
    3.25 s (noisy PNG) and 3.17 s against 3.31 s (JPEG) on 2 cores, medians of 5 alternating runs.
    A GeoTIFF with one decoding thread fewer was slower (0.94-0.99× in three such runs)."""
    return max(1, (os.cpu_count() or 2) + 1 - writing_threads)


class _Failures:
    """Failed tiles grouped by what went wrong, for one line that names the causes."""

    SHOWN = 5  # tiles named per cause

    def __init__(self) -> None:
        self.by_problem: Dict[str, List[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.by_problem)

    def add(self, tile: Tile, problem: str) -> None:
        wrapped = tile.wrapped()
        self.by_problem.setdefault(problem, []).append(f"{wrapped.z}/{wrapped.x}/{wrapped.y}")

    def summary(self, total: int, allow_missing: bool) -> str:
        count = sum(len(names) for names in self.by_problem.values())
        causes = []
        for problem, names in sorted(self.by_problem.items(), key=lambda item: -len(item[1])):
            more = f" and {len(names) - self.SHOWN} more" if len(names) > self.SHOWN else ""
            causes.append(f"{problem}: {', '.join(names[:self.SHOWN])}{more}")
        head = (f"every tile failed ({count} of {total}; --allow-missing leaves only some empty)"
                if allow_missing else f"{count} of {total} tile(s) failed")
        return f"{head}; " + "; ".join(causes)


def _settle(outcome: _Outcome, plan: TilePlan, sink, result: TileResult, failures: _Failures,
            limiter: Limiter, delayed: list, rng: random.Random, control: Control) -> None:
    """Write a finished tile, or schedule its retry, or record its failure (this thread only)."""
    tile = outcome.tile
    if outcome.kind == "retry":
        control.check_canceled()  # an abort during cancel looks like a failed request
        if outcome.throttled:
            limiter.throttled()
        if outcome.attempt < plan.retries:
            wait_s = outcome.wait_s if outcome.wait_s is not None else backoff_s(outcome.attempt, rng)
            heapq.heappush(delayed, (time.monotonic() + wait_s, next(_SEQUENCE), tile, outcome.attempt + 1))
            result.retries += 1
            return
        outcome.kind = "failed"
        outcome.problem += f" (after {plan.retries} retries)" if plan.retries else ""
    elif outcome.kind == "failed" and outcome.problem.startswith("HTTP "):
        outcome.problem += " (not retried)"  # a 403 or 401 would answer the same again
    if outcome.kind == "failed":
        result.failed += 1
        failures.add(tile, outcome.problem)
        # As an empty tile: a mosaic's blocks and overviews that wait for it are finished now, not
        # held to the end (with --allow-missing, a failing server's tiles held them without bound)
        sink.write(tile, None)
        return
    limiter.succeeded()
    setattr(result, outcome.kind, getattr(result, outcome.kind) + 1)
    result.bytes_fetched += outcome.size
    sink.write(tile, outcome.payload)


_SEQUENCE = itertools.count()  # ties in the retry heap never compare tiles
_FETCHED, _DECODED, _FAILED = "fetched", "decoded", "failed"  # what a job's report on the queue says


def _reported(finished: "queue.SimpleQueue[tuple]", stage: str, work: Callable[..., _Outcome], *args) -> None:
    """Run ``work`` (on a pool's thread) and put its outcome, or what it raised, on ``finished``.

    One queue the scheduler waits on: ``concurrent.futures.wait`` installed and removed a waiter
    on every pending future at each call, ~0.1 ms of the scheduler's CPU a tile at 16 workers.
    """
    try:
        finished.put((stage, work(*args)))
    except BaseException as exc:  # noqa: BLE001 (raised again by the scheduler)
        finished.put((_FAILED, exc))


def _job(plan: TilePlan, tile: Tile, number: int, cache: TileCache, session, control: Control) -> _Outcome:
    """One attempt at a tile (network worker): the cache when fresh, else one request.

    The body's header is checked here (its size, before any pixel is decoded), and for a
    package its end too. A stale cached tile with an ETag is asked for conditionally:
    unchanged costs a 304. A mosaic's body is cached only once it decodes (``_decode``).
    """
    control.check_canceled()
    cached = cache.read(tile, plan.max_tile_bytes)
    if cached is not None and _body_problem(cached.body, "", plan):
        cached = None  # cached before these checks existed: never trusted
    if cached is not None and cached.fresh(plan.max_age_s, time.time()):
        return _Outcome(tile, number, "cached", cached.body, from_cache=True)
    url = plan.template.url(tile)
    headers = dict(plan.headers)  # the caller's (Referer, Authorization): sent, never shown
    if cached is not None and cached.etag:
        headers["If-None-Match"] = cached.etag
    answer = _request(url, session, plan, headers or None)
    keeps = not plan.is_package  # a package keeps the bytes itself
    if answer.kind == "not_modified" and cached is not None:
        return _Outcome(tile, number, "cached", cached.body, from_cache=True,
                        keep=(tile, cached.body, answer.headers, time.time(), cached.etag) if keeps else None)
    if answer.kind == "empty":
        return _Outcome(tile, number, "missing")
    if answer.kind == "ok":
        problem = _body_problem(answer.body, answer.headers.get("Content-Type", ""), plan)
        if not problem:
            return _Outcome(tile, number, "fetched", answer.body, size=len(answer.body),
                            keep=(tile, answer.body, answer.headers, time.time()) if keeps else None)
        answer = Answer("fail", problem=problem)
    if answer.kind == "fail":
        return _Outcome(tile, number, "failed", problem=answer.problem)
    return _Outcome(tile, number, "retry", problem=answer.problem, wait_s=answer.retry_after_s,
                    throttled=answer.throttled)


def _decode(outcome: _Outcome, decode: Callable[[bytes], Any], keep: Callable[[tuple], None],
            forget: Callable[[Tile], None]) -> _Outcome:
    """A mosaic's tile decoded (decoding thread) by its sink's ``decode``, and cached once it decodes.

    A body that does not decode fails; a cached one is dropped from the cache and fetched again.
    """
    pixels = decode(outcome.payload)
    if pixels is None:
        outcome.payload = None
        if outcome.from_cache:
            forget(outcome.tile)
            outcome.kind = "refetch"
        else:
            outcome.kind, outcome.problem = "failed", "an image GDAL cannot decode"
        return outcome
    if outcome.keep is not None:
        keep(outcome.keep)  # the cache's writing thread: off this one
    outcome.payload = pixels
    return outcome


def _body_problem(body: bytes, content_type: str, plan: TilePlan) -> str:
    """Why a body is no tile for this plan ("" if none): its header, and for a package its end too."""
    problem = tile_problem(body, content_type, plan.tile_px)
    if not problem and plan.is_package:
        problem = whole_tile_problem(body, plan.tile_px) or ""  # a package never holds a truncated tile
    return problem


def _request(url: str, session, plan: TilePlan, headers) -> Answer:
    if url.startswith("file://"):  # allowed only with --allow-file-urls (checked by the template)
        local = Path(url[len("file://"):])
        if not local.is_file():
            return Answer("empty")
        if local.stat().st_size > plan.max_tile_bytes:
            return Answer("fail", problem=f"a body of more than {plan.max_tile_bytes} bytes "
                                          f"(--max-tile-bytes raises it)")
        return Answer("ok", local.read_bytes())
    return attempt(session, url, plan.timeout_s, headers, max_bytes=plan.max_tile_bytes)
