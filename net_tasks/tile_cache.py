"""The tile cache: one SQLite database per cache folder (``tiles.sqlite``), a row per tile: its
z/x/y, the body as served, when it was fetched, when it expires and its ETag. Nothing else of
the request (URL, headers, credentials) is stored.

One database, not a file per tile: creating a file is most of what caching a tile cost
(0.23-0.63 ms of the writer's CPU a tile in ``bench/tiles.py``, mostly the kernel's, on ext4;
more on NTFS), on cores the mosaic's decoding and compressing need; a row costs 0.14-0.21 ms
there (0.06 ms alone). Rows are written in transactions of up
to ``BATCH_TILES`` tiles or ``BATCH_S`` seconds (and at ``close()``), so a kill at any moment
loses at most the last batch and never leaves a half-written tile: SQLite rolls an unfinished
transaction back when the database is next opened. Each row also holds its body's CRC-32, so
a body the disk lost or mixed up (a power cut: see ``TileCache``) is a miss, never a wrong tile.

Best effort: the cache never fails a run. A file that is no database of ours (junk, another
program's, corrupt) is set aside as ``tiles.sqlite.broken`` and started anew; a database
another process keeps locked past ``BUSY_TIMEOUT_S`` means this tile is not cached this time;
a read that fails is a miss. A cache folder of the former layout (``z/x/y.png`` files) is
ignored, its files left where they are (they may be the user's: nothing not ours is deleted).

Bounded: the end of a completed run holds the database to the run's size bound on disk
(``max_bytes``): past it, the least recently stored tiles of earlier runs are dropped until it
takes ``TRIM_TO`` of the bound, and the space they took is given back to the file system
(incremental vacuum). Done at ``close(completed=True)``, after the last tile was written, so no
download waits on it. A canceled or failed run closes at once and drops nothing: its rerun reads
every tile it stored. Nor does a run drop its own tiles: one that stores more than the bound
leaves the database that much past it, until the next run's end.

Freshness comes from the server's headers (``no-cache``, ``max-age``, ``Expires``), else the
OSM usage policy's week, unless the user's ``--max-age`` overrides both. A stale tile with an
ETag is asked for conditionally (a 304 renews its record, the body kept).

Pure: stdlib only (the engine decides what is cached; this module only stores and reads).
"""
from __future__ import annotations

import email.utils
import logging
import os
import sqlite3
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Set, Tuple

from .tiles import Tile

DEFAULT_MAX_AGE_S = 7 * 24 * 3600  # the OSM usage policy's minimum when the server says nothing
MAX_LIFETIME_S = 2.0 ** 31  # RFC 9111's ceiling for a lifetime too large to hold
MAX_ETAG_CHARS = 1024  # an ETag longer than this is not kept (the tile is then fetched whole when stale)
DATABASE_NAME = "tiles.sqlite"
SET_ASIDE_SUFFIX = ".broken"  # a database that could not be used, kept for a person to look at
APPLICATION_ID = 0x4F66_6C64  # "Offl" (PRAGMA application_id): a database of this cache
SCHEMA_VERSION = 1  # PRAGMA user_version of the layout below
BATCH_TILES = 64  # tiles a transaction holds at most...
BATCH_S = 0.5  # ...or seconds: a kill loses at most this much, another process waits about this long
BUSY_TIMEOUT_S = 1.0  # how long a write waits for another process's transaction before giving up the tile
TRIM_TO = 0.9  # a trim leaves the cache at this share of its bound: the next runs add a tenth before the next trim
ROW_BYTES = 40  # a row's bytes beside its body (key, record, cell pointer): a first guess of what a deletion frees
TRIM_STEPS = 6  # deletions a trim makes at most, each sized by what the ones before it freed
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL: freed pages can be given back to the file system

SCHEMA = """CREATE TABLE IF NOT EXISTS tiles (
    z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    body BLOB NOT NULL, crc INTEGER NOT NULL, fetched REAL NOT NULL, expires REAL NOT NULL,
    etag TEXT NOT NULL, PRIMARY KEY (z, x, y))"""

_LOG = logging.getLogger(__name__)


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


class TileCache:
    """The tiles cached in ``folder``: read from any thread, written from one (the run's cache writer).

    Threads: one connection to write through, used under ``_write_lock`` (by the cache's
    writer, and by a decoding thread forgetting a tile), and one to read through per reading
    thread, used by that thread only (``check_same_thread=False`` only so ``close()`` can close
    them all). A read waits for no lock: one reader shared by 16 workers under a lock cost
    them 3.3-12 s of wall time a run in all (0.5-0.9 s with a file per tile), each waiting in
    turn while the holder waited for the GIL. A read sees what is committed; a tile forgotten
    this run reads as a miss at once (``_distrusted``), so fetching it again never finds the
    bad copy still uncommitted.

    Journal: WAL, ``synchronous=OFF``: readers never wait for the writer, and SQLite hands its
    writes to the OS without waiting for the disk. Safe against a kill at any moment (SQLite's
    own guarantee); an OS crash or power cut may damage the file, which is then set aside, or
    mix up a body, which then fails its CRC: as with the former cache (never synced either),
    a refetch, never a wrong tile. Timed in ``bench/tiles.py`` (COG, JPEG, 16 workers, 1,024
    tiles, a run's totals), a file per tile cost 0.24-0.64 s of CPU, this 0.15-0.22 s; WAL with
    ``synchronous=NORMAL`` 0.10-0.16 s, but its checkpoints waited on a disk busy with the
    mosaic for 0.15-0.6 s (the writer's queue filling behind them) and the last, at close, up
    to 0.31 s of the run's wall time; the rollback journal unsynced waited for no disk, but
    each commit locked the readers out, and SQLite's busy handler sleeps: the workers' reads
    took 1.2-11 s of wall time in all. Where SQLite refuses WAL (``journal_mode`` does not
    answer ``wal``: no shared memory, some network filesystems) it keeps the rollback journal.

    With ``create=False`` (a package's run, which writes no cache), a folder without a database
    is left as it is and every read is a miss.

    ``max_bytes``: the database's bound on disk, held at ``close(completed=True)`` (None: no bound).
    """

    def __init__(self, folder: Path, create: bool = True,
                 warn: Callable[[str], None] = _LOG.warning, max_bytes: Optional[int] = None) -> None:
        self.path = Path(folder) / DATABASE_NAME
        self.max_bytes = max_bytes
        self._warn = warn
        self._write_lock = threading.Lock()  # the writer and the batch's counters
        self._writer: Optional[sqlite3.Connection] = None
        self._here = threading.local()  # .reader: this thread's connection
        self._readers: List[sqlite3.Connection] = []  # every thread's, closed by close()
        self._readers_lock = threading.Lock()  # _readers and _closed
        self._closed = False
        self._broken = False  # found damaged while in use: set aside at close()
        self._told = False  # a failure other than damage was logged (once a run)
        self._impatient = False  # another process held the lock past the timeout: stop waiting for it
        self._pending = 0  # rows written in the open transaction
        self._idle_commit: Optional[threading.Timer] = None  # commits the open transaction BATCH_S after it began
        self._batch_started = 0.0
        # Forgotten this run: a miss until written anew. (A set's add, discard and 'in' are each
        # atomic under the GIL: no lock needed.)
        self._distrusted: Set[Tuple[int, int, int]] = set()
        self._first_of_this_run: Optional[int] = None  # rowids from here on were stored by this run (never trimmed)
        if create or self.path.is_file():
            self._open()

    # -- reading (any thread) ------------------------------------------------------------------

    def read(self, tile: Tile, max_bytes: int) -> Optional[CacheEntry]:
        """The tile's cached copy, or None: never cached, forgotten, larger than ``max_bytes``
        (nothing that large is cached: not ours to trust), or the database could not be read."""
        key = _key(tile)
        reader = self._reader()
        if reader is None or self._broken or key in self._distrusted:
            return None
        try:
            rows = reader.execute("SELECT body, crc, fetched, expires, etag FROM tiles "
                                  "WHERE z = ? AND x = ? AND y = ? AND length(body) <= ?",
                                  (*key, max_bytes)).fetchall()  # all: the statement ends, its lock with it
        except sqlite3.Error as exc:
            self._trouble(exc, "reading")
            return None
        row = rows[0] if rows else None
        if row is None or zlib.crc32(row[0]) != row[1]:
            return None  # (a body that fails its CRC is replaced when the tile is fetched again)
        return CacheEntry(bytes(row[0]), float(row[2]), float(row[3]), str(row[4]))

    def tiles(self) -> List[Tile]:
        """Every tile cached (committed), in z/x/y order (what a person or a test would list)."""
        reader = self._reader()
        if reader is None:
            return []
        return [Tile(*row) for row in reader.execute("SELECT x, y, z FROM tiles ORDER BY z, x, y").fetchall()]

    # -- writing (the cache writer's thread) ---------------------------------------------------

    def write(self, tile: Tile, body: bytes, headers: Mapping[str, str], now: float,
              renews: Optional[str] = None) -> None:
        """Keep the tile with its record (committed with its batch).

        A 304 passes the body already cached and the ETag it confirmed as ``renews``: the record
        is renewed only if the row still holds that body and ETag (one statement: compare and
        set), so a newer tile another run cached while the 304 was on its way stays.

        A response the server marked ``no-store`` is not kept, and any older copy goes with it
        (RFC 9111 §5.2.2.5: a cache must not store it); the run still uses the tile it was sent.
        """
        key = _key(tile)
        no_store = "no-store" in _cache_directives(headers)
        etag = headers.get("ETag") or renews or ""  # a 304 need not restate the ETag it confirmed (RFC 9111 §4.3.4)
        etag = etag if len(etag) <= MAX_ETAG_CHARS else ""  # too long to keep: the tile is kept without it
        expires = now + max_age_from(headers, DEFAULT_MAX_AGE_S)
        with self._write_lock:
            if not self._begin():
                return  # no database, or another process holds it: not cached this time
            try:
                if no_store:
                    self._writer.execute("DELETE FROM tiles WHERE z = ? AND x = ? AND y = ?", key)
                elif renews is not None:  # stored anew, at the end: the bound's trim drops the lowest rowids first
                    self._writer.execute("INSERT OR REPLACE INTO tiles SELECT z, x, y, body, crc, ?, ?, ? FROM tiles "
                                         "WHERE z = ? AND x = ? AND y = ? AND etag = ? AND body = ?",
                                         (now, expires, etag, *key, renews, body))
                else:
                    self._writer.execute("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                         (*key, body, zlib.crc32(body), now, expires, etag))
            except sqlite3.Error as exc:
                self._trouble(exc, "writing")
                return
            self._pending += 1
            if self._pending >= BATCH_TILES or time.monotonic() - self._batch_started >= BATCH_S:
                self._commit()
        if not no_store and renews is None:
            self._distrusted.discard(key)  # (read from the database once its batch is committed)

    def forget(self, tile: Tile) -> None:
        """Drop a cached tile (a body that no longer passes the engine's checks); any thread.

        It reads as a miss from now on in this run, even before the deletion is committed or
        if the database is locked, so fetching it again never finds the bad copy.
        """
        key = _key(tile)
        self._distrusted.add(key)
        with self._write_lock:
            if self._begin():
                try:
                    self._writer.execute("DELETE FROM tiles WHERE z = ? AND x = ? AND y = ?", key)
                except sqlite3.Error as exc:
                    self._trouble(exc, "forgetting a tile in")

    def commit(self) -> None:
        """Commit the batch written so far (``close()`` does; so does every ``BATCH_TILES``-th write)."""
        with self._write_lock:
            if self._writer is not None and self._writer.in_transaction and not self._broken:
                self._commit()

    def close(self, completed: bool = False) -> None:
        """Commit what is written (on every path: what was fetched is kept) and close; when the
        run ``completed``, hold the database to ``max_bytes`` first. (A canceled or failed run
        closes at once: a trim took it 1.1-3.7 s with a cache past 512 MB.) Closing again does
        nothing."""
        if self._idle_commit is not None:
            self._idle_commit.cancel()
        self.commit()
        with self._write_lock, self._readers_lock:
            self._closed = True
            for connection in self._readers:
                connection.close()
            self._readers = []
            if completed and self._writer is not None and self.max_bytes is not None and not self._broken:
                self._trim(self._writer, self.max_bytes)
            if self._writer is not None:
                self._writer.close()
            opened, self._writer = self._writer is not None, None
            if opened and self._broken:
                self._set_aside(told=True)

    def __enter__(self) -> "TileCache":
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(completed=exc_type is None)

    # -- the bound -----------------------------------------------------------------------------

    def _trim(self, db: sqlite3.Connection, max_bytes: int) -> None:
        """If the file is past ``max_bytes``, drop the least recently stored tiles of earlier runs
        until the rows take ``TRIM_TO`` of it, and give the freed pages back (best effort: a cache
        another process holds is trimmed by a later run). Under both locks, no transaction open."""
        try:
            page_size = _pages(db, "page_size")
            if _pages(db, "page_count") * page_size <= max_bytes:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                self._drop_oldest(db, page_size, int(max_bytes * TRIM_TO))
            finally:
                db.execute("COMMIT")
            if _pages(db, "auto_vacuum") == INCREMENTAL:
                # every free page back to the file system: one page a step, and only sqlite3_exec
                # (executescript) steps a statement that returns no row to its end
                db.executescript("PRAGMA incremental_vacuum;")
            else:  # a cache made before the bound: rewritten once, what is kept only, able to shrink from now on
                db.execute(f"PRAGMA auto_vacuum = {INCREMENTAL}")
                db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # and the file shrinks now
        except sqlite3.Error as exc:
            self._trouble(exc, "trimming")

    def _drop_oldest(self, db: sqlite3.Connection, page_size: int, target: int) -> None:
        """Delete the oldest rows stored before this run until the pages in use take ``target``
        bytes. In a transaction.

        Least recently stored is the lowest rowid: every write of a body, and every 304 that
        renews one, inserts its row anew (``INSERT OR REPLACE``), at the end. The rows are walked in that order only as far as
        each step needs, reading each row's length from its record, never its body. What a row
        frees beside its body (its record, its key in the index, a page's slack) is measured, not
        guessed (1.0-1.3 bytes in use per byte counted, from 25 KB tiles to 1 KB ones; counting
        ``ROW_BYTES`` alone left 1 KB tiles at 0.49-0.58 of the bound): the first step aims at half
        the excess, each next one at what is left, scaled by what the steps before it freed.
        """
        freed_per_counted, share = 1.0, 0.5
        for _ in range(TRIM_STEPS):
            in_use = (_pages(db, "page_count") - _pages(db, "freelist_count")) * page_size
            if in_use <= target:
                return
            wanted, counted, last = share * (in_use - target) / freed_per_counted, 0, None
            rows = db.execute("SELECT rowid, length(body) FROM tiles WHERE rowid < ? ORDER BY rowid",
                              (self._first_of_this_run,))
            for rowid, size in rows:
                counted += size + ROW_BYTES
                last = rowid
                if counted >= wanted:
                    break
            rows.close()
            if last is None:
                return  # all that is left is this run's
            db.execute("DELETE FROM tiles WHERE rowid <= ?", (last,))
            freed = in_use - (_pages(db, "page_count") - _pages(db, "freelist_count")) * page_size
            freed_per_counted, share = max(freed, page_size) / counted, 1.0

    # -- the database --------------------------------------------------------------------------

    def _reader(self) -> Optional[sqlite3.Connection]:
        """This thread's connection to read through (made on its first read), or None."""
        reader = getattr(self._here, "reader", None)
        if reader is not None and not self._closed:
            return reader
        with self._readers_lock:
            if self._closed or self._writer is None:
                return None
            try:  # (the writer's connection checked the file and its layout)
                reader = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
                reader.execute("PRAGMA cache_size = -256")  # KiB: lookups of one tile each, 16 threads
            except sqlite3.Error as exc:
                self._trouble(exc, "reading")
                return None
            self._readers.append(reader)
        self._here.reader = reader
        return reader

    def _open(self) -> None:
        """Connect to the folder's database, made when missing; a file that is no database of
        ours is set aside first. Neither connection when it cannot be had (the cache is off)."""
        for attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._writer = _connect(self.path)
                self._first_of_this_run = self._next_rowid()
                return
            except (sqlite3.DatabaseError, _NotOurs, OSError) as exc:
                problem = exc
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if isinstance(problem, sqlite3.OperationalError) or isinstance(problem, OSError):
                # locked, read-only, I/O: not the file's fault, nothing set aside
                self._warn(f"tile cache {self.path} is not used this run: {problem}")
                return
            if attempt or not self._set_aside(f" ({problem})"):
                return

    def _next_rowid(self) -> Optional[int]:
        """The rowid the next row stored gets (the largest plus one): the rows of earlier runs lie
        below it. None if the database cannot tell (damaged: then nothing is trimmed)."""
        try:
            return self._writer.execute("SELECT coalesce(max(rowid), 0) + 1 FROM tiles").fetchone()[0]
        except sqlite3.Error as exc:
            self._trouble(exc, "reading")
            return None

    def _set_aside(self, why: str = "", told: bool = False) -> bool:
        """Move the unusable database (and its journal or log, which would otherwise be replayed
        into the new one) to ``*.broken``; one line in the log."""
        try:
            for suffix in ("", "-journal", "-wal", "-shm"):
                source = self.path.with_name(self.path.name + suffix)
                if source.exists():
                    os.replace(source, self.path.with_name(self.path.name + SET_ASIDE_SUFFIX + suffix))
        except OSError as exc:
            self._warn(f"tile cache {self.path} is not a usable database and cannot be set aside "
                       f"({exc.strerror or exc}): not used this run")
            return False
        if not told:  # (the damage found in use was logged when found)
            self._warn(f"tile cache {self.path} was not a usable database{why}: set aside as "
                       f"{self.path.name + SET_ASIDE_SUFFIX}, a new one started")
        return True

    def _begin(self) -> bool:
        """In a write transaction (opening one if none is open); False if that cannot be. Under _write_lock."""
        if self._writer is None or self._broken:
            return False
        if self._writer.in_transaction:
            return True
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if _busy(exc) and not self._impatient:  # waited the whole timeout once: skip, do not wait again
                self._impatient = True
                self._writer.execute("PRAGMA busy_timeout = 0")
            elif not _busy(exc):
                self._trouble(exc, "writing")
            return False
        if self._impatient:  # the other process let go: wait for it again, as usual
            self._impatient = False
            self._writer.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._pending, self._batch_started = 0, time.monotonic()
        # committed after BATCH_S even if no tile follows: an open transaction holds SQLite's write
        # lock, and another run writing into this cache would give up its tiles meanwhile
        self._idle_commit = threading.Timer(BATCH_S, self.commit)
        self._idle_commit.daemon = True
        self._idle_commit.start()
        return True

    def _commit(self) -> None:
        """Under _write_lock."""
        try:
            self._writer.execute("COMMIT")
        except sqlite3.Error as exc:  # the batch is not cached this time
            self._trouble(exc, "writing")
            try:
                self._writer.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # already rolled back by SQLite

    def _trouble(self, exc: sqlite3.Error, doing: str) -> None:
        """A failed read or write is a miss or a tile not kept; a damaged database is set aside
        at close (one line in the log), unused meanwhile. (Flags only: any thread.)"""
        if type(exc) is sqlite3.DatabaseError and not self._broken:  # noqa: E721 (corrupt, not a database: not its subclasses)
            self._broken = True
            self._warn(f"tile cache {self.path} is damaged ({exc} while {doing} it): "
                       "not used for the rest of this run, set aside at its end")
        elif not self._told and not _busy(exc):  # a full disk, an I/O error: said once, not per tile
            self._told = True
            self._warn(f"tile cache {self.path}: {exc} while {doing} it (tiles not kept are fetched next time)")


class _NotOurs(Exception):
    """A database that is not this cache's (another program's, or another layout)."""


def _connect(path: Path) -> sqlite3.Connection:
    new = not path.is_file() or path.stat().st_size == 0
    # isolation_level=None: transactions are begun and committed here, not by the module
    db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        if new:  # its pages can be given back to the file system (_trim): said before WAL writes the header
            db.execute(f"PRAGMA auto_vacuum = {INCREMENTAL}")
        # Reads the header: junk raises 'not a database'. Where WAL is refused, the answer is the
        # journal SQLite keeps (the rollback journal), which works the same, readers waiting on commits.
        try:
            db.execute("PRAGMA journal_mode = WAL").fetchall()
        except sqlite3.OperationalError as exc:  # another process is opening it too: the mode is
            if not _busy(exc):  # kept in the file, set by whichever gets there (or by the next run)
                raise
        db.execute("PRAGMA synchronous = OFF")  # (why: TileCache's docstring)
        if _layout(db) != (APPLICATION_ID, SCHEMA_VERSION):
            db.execute("BEGIN IMMEDIATE")  # another process may be making it at the same moment
            layout = _layout(db)
            if layout == (0, 0) and not db.execute("SELECT 1 FROM sqlite_master").fetchone():
                db.execute(SCHEMA)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                layout = _layout(db)
            db.execute("COMMIT")
            if layout != (APPLICATION_ID, SCHEMA_VERSION):
                raise _NotOurs(f"application {layout[0]:#x}, version {layout[1]}")
        db.execute("SELECT z, x, y, body, crc, fetched, expires, etag FROM tiles LIMIT 0").fetchall()
    except BaseException:
        db.close()
        raise
    return db


def _layout(db: sqlite3.Connection) -> Tuple[int, int]:
    return (db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0])


def _pages(db: sqlite3.Connection, pragma: str) -> int:
    """An integer PRAGMA's value (page_count, page_size, freelist_count, auto_vacuum)."""
    return int(db.execute(f"PRAGMA {pragma}").fetchone()[0])


def _busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _key(tile: Tile) -> Tuple[int, int, int]:
    """The row's key, from integers only (never from URL text)."""
    tile = tile.wrapped()
    return int(tile.z), int(tile.x), int(tile.y)
