"""The warehouse: one DuckDB file, migrated on open, read through a cursor per call, written by one thread.

DuckDB lets one process hold a database file; inside it, every thread needs its own cursor (a shared
connection raises under threads in duckdb 2.x) and writes go through a single worker so each ingest job is
one transaction that readers see whole or not at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import queue
import sys
import shutil
import tempfile
import time
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

import sql
from warehouse import audit
from warehouse.errors import DatabaseBusy, DatabaseError, LedgerDamaged, ModelMixError, PermissionDenied

if TYPE_CHECKING:
    import polars as pl   # imported where a frame is made: a writer (an ingest, the CLI's) never needs it

T = TypeVar("T")

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")
_REPO = Path(__file__).resolve().parent.parent
_DISK_HINT = "; check that its folder is writable and has free space"
# what DuckDB says of a truncated or corrupted database file or write-ahead log (duckdb 2.0)
_DAMAGE_MARKERS = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file",
                   "Corrupt WAL file", "Failure while replaying WAL", "computed checksum")
# the relations that carry a team's spend (or its budget); a team-restricted view shadows each with a temp view
# keeping the rows this predicate allows
_ALLOWED = "(select team from temp.scope_teams)"
_TEAM_SCOPED = {
    "usage_keyed": f"team in {_ALLOWED}",
    "usage": f"team in {_ALLOWED}",
    "usage_daily": f"team in {_ALLOWED}",
    "spend_daily": f"team in {_ALLOWED}",
    "people_monthly": f"team in {_ALLOWED}",
    "key_daily": f"team in {_ALLOWED}",
    "replay_stored": f"team in {_ALLOWED}",
    "replay_buckets": f"team in {_ALLOWED}",
    "budgets": f"scope = 'team' and name in {_ALLOWED}",   # project/provider budgets span other teams' spend
    "subscriptions": f"team in {_ALLOWED}",
}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True   # exists, owned by someone else
    return True


def is_damage(e: BaseException) -> bool:
    """Whether a DuckDB error says the file itself is truncated or corrupted (not busy, not a disk problem)."""
    return any(m in str(e) for m in _DAMAGE_MARKERS)


def damaged(path: Path, e: BaseException) -> LedgerDamaged:
    """The error for a damaged ledger: what DuckDB found, and the way back (the last backup, by name)."""
    from warehouse.backup import way_back   # late: backup builds on this module

    return LedgerDamaged(f"{path} is damaged and cannot be read ({one_line(e)}). {way_back(path)}")


def harden(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Lock a connection down: DuckDB may read and write files only in `folder` (and its own spill folder), loads
    no extension, and no later statement may change that (`lock_configuration`). Every connection to a ledger
    goes through this: the Warehouse's, and the one `restore` imports a backup with."""
    allowed = str(folder.resolve()) + os.sep
    # SET takes no bound parameters; the folder is ours (the ledger's name), quoted as a literal
    con.execute("set allowed_directories = ['" + allowed.replace("'", "''") + "']")
    con.execute("set autoload_known_extensions = false")
    con.execute("set autoinstall_known_extensions = false")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def clear_dead_staging(folder: Path) -> None:
    """Remove the staging folders (`ingest-<pid>-…`) of processes that no longer exist (killed mid-job)."""
    for left in folder.glob("ingest-*"):
        pid = left.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)


def one_line(e: BaseException) -> str:
    """A DuckDB error's first line (they carry multi-line context), for a one-line message."""
    lines = str(e).strip().splitlines()
    return lines[0][:300] if lines else type(e).__name__


def _where(text: str) -> str:
    """The `.sql` file `text` came from, or for SQL written in Python the first calling line outside this module."""
    if origin := sql.origin(text):
        return origin
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    if frame is None:
        return "an inline query"
    path = Path(frame.f_code.co_filename)
    shown = path.relative_to(_REPO).as_posix() if path.is_relative_to(_REPO) else str(path)
    return f"the inline query at {shown}:{frame.f_lineno}"


def query_error(e: duckdb.Error, text: str, params: Mapping[str, Any] | Sequence[Any] | None) -> DatabaseError:
    """DuckDB's refusal of one statement as a DatabaseError naming where the statement lives and the names of the
    parameters bound to it (not their values: they may be a person's email or a long list)."""
    if isinstance(params, Mapping):
        bound = ", ".join(f"${k}" for k in sorted(params)) or "none"
    else:
        bound = f"{len(params)} positional" if params else "none"
    return DatabaseError(f"{_where(text)} (parameters: {bound}) failed: {one_line(e)}")


def execute(cur: duckdb.DuckDBPyConnection, text: str,
            params: Mapping[str, Any] | Sequence[Any] | None = None) -> duckdb.DuckDBPyConnection:
    """`cur.execute(text, params)` for a job on the writer's cursor; raises DatabaseError naming the `.sql` file
    and the parameter names when DuckDB refuses it (the job's transaction then rolls back)."""
    try:
        return cur.execute(text, params)
    except duckdb.Error as e:
        raise query_error(e, text, params) from e


class _OneVersion:
    """An open `Warehouse.one_version()` (or `held_version()`): the version box it defers bumps of, whether a write
    committed in it, and (held only) the timer that publishes it if its job never comes back to end it."""

    __slots__ = ("box", "dirty", "timer", "active")

    def __init__(self, box: list[int]):
        self.box, self.dirty = box, False
        self.timer: threading.Timer | None = None
        self.active = 0                 # held only: blocks of its key running now


# the `one_version()` block open in this thread (or task), if any: writes submitted from it publish at its end
_ONE_VERSION: contextvars.ContextVar[_OneVersion | None] = contextvars.ContextVar("modelmix_one_version", default=None)


class Writer:
    """A queue with one worker thread: every write job runs here, in order, on the writer's own cursor."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._jobs: queue.Queue[tuple[Callable, tuple, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="modelmix-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cur = self._con.cursor()
        while (job := self._jobs.get()) is not None:
            fn, args, fut = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(cur, *args))
            except BaseException as e:  # handed to the caller, who re-raises it
                fut.set_exception(e)
        cur.close()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        fut: Future[T] = Future()
        self._jobs.put((fn, args, fut))
        return fut

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


class Warehouse:
    """Open (and migrate) the ledger at `path`. Use `query` to read and `write` to change it.

    Every error leaves this class as a `ModelMixError`: opening raises DatabaseBusy (another process holds the
    file) or DatabaseError (cannot open, migrate or harden it); `query`/`sql`/`scalar` raise DatabaseError naming
    the `.sql` file and the bound parameter names; `write` raises PermissionDenied (a restricted or read-only
    view), the job's own ModelMixError, or DatabaseError (the change was rolled back)."""

    def __init__(self, path: str | Path, *, threads: int | None = None, memory_limit: str | None = None,
                 actor: str | None = None, staging_dir: str | Path | None = None):
        self.path = Path(path)
        self.actor = actor or audit.default_actor()   # who `write` records in the audit log
        self.teams: tuple[str, ...] | None = None      # None: every team; see `as_user`
        self._is_view = False
        self._read_only = False                        # a viewer's view: see `as_user`
        config: dict[str, Any] = {"autoinstall_known_extensions": False}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        self._had_wal = Path(str(self.path) + ".wal").exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path), config=config)
        except duckdb.Error as e:
            if is_damage(e):
                raise damaged(self.path, e) from e
            if not isinstance(e, duckdb.IOException):
                raise DatabaseError(f"cannot open {self.path}: {one_line(e)}{_DISK_HINT}") from e
            if any(m in str(e) for m in _LOCK_MARKERS):
                raise DatabaseBusy(
                    f"{self.path} is held by another ModelMix process (the dashboard?). "
                    "`modelmix ingest` hands files to it through the inbox; other commands must wait for it to stop."
                ) from e
            raise DatabaseError(f"cannot open {self.path}: {one_line(e)}{_DISK_HINT}") from e
        except OSError as e:
            raise DatabaseError(f"cannot open {self.path}: {one_line(e)}{_DISK_HINT}") from e
        # every cursor converts offsets to UTC, whatever the machine's zone (ICU is built into duckdb)
        self._con.execute("set global TimeZone = 'UTC'")
        self._cursor_lock = threading.Lock()
        self.schema_version = 0   # the last migration applied (writes bump `data_version`)
        try:
            self._check_size()
            self._migrate()
            from warehouse import prices  # late: prices uses this module's types

            prices.ensure_catalog(self)
            from warehouse import ledger

            def exists(table: str) -> bool:
                return bool(self._con.execute("select 1 from duckdb_tables() where table_name = $t",
                                              {"t": table}).fetchone())

            if not exists("usage_daily"):
                # the rollups are derived; a new ledger gets them empty so readers never miss a table
                builds = [ledger.create_usage_daily]
            else:
                # a ledger from before spend_daily, key_daily or people_monthly (or restored from such a backup): each
                # built once from usage_daily
                builds = [build for table, build in ledger.COARSER_ROLLUPS.items() if not exists(table)]
            # the stored, priced replay rows (migration-free like the rollups): a new ledger gets the empty table,
            # an older one its rows, priced once from the view
            builds += [build for table, build in ledger.STORED_ROWS.items() if not exists(table)]
            if builds:
                self._con.begin()       # whole or not at all: a table left empty would never be built again
                try:
                    for build in builds:
                        build(self._con)
                    self._con.commit()
                except BaseException:
                    self._con.rollback()
                    raise
        except duckdb.Error as e:  # a read-only or full disk shows here first, on a new or older ledger
            self._con.close()
            if is_damage(e):
                raise damaged(self.path, e) from e
            raise DatabaseError(f"cannot prepare {self.path}: {one_line(e)}{_DISK_HINT}") from e
        except BaseException:      # a failed migration or backup (already a ModelMixError): release the file
            self._con.close()
            raise
        self._scope_views = self._scope_statements(self._con.execute("select current_database()").fetchone()[0])
        self.staging_dir = Path(staging_dir) if staging_dir else self.path.with_name(self.path.name + ".staging")
        self._harden()
        self._writer = Writer(self._con)
        # starts from the clock, not 0: a reopened ledger must never match a cache key from before it closed;
        # a list so that the per-person views of `as_user` share it with the owner
        self._version_box = [time.monotonic_ns()]
        self._version_lock = threading.Lock()              # bumps come from the writer and from `one_version`
        self._on_commit: list[Callable[[], None]] = []   # shared with the views of `as_user`
        self._held: dict[Hashable, _OneVersion] = {}      # open `held_version` jobs by key, shared likewise
        self._on_close: list[Callable[[], None]] = []
        self.inbox_watcher: Any = None  # set by the owner (modelmix.runtime) when it serves the inbox

    def _check_size(self) -> None:
        """A file shorter than the blocks its header lists was truncated (an interrupted copy, a full disk during
        a copy): say so now, not at the first query that reads a missing block. Only for a file opened without a
        write-ahead log: replaying one allocates blocks the file does not hold yet."""
        if self._had_wal:
            return
        # every used block has its own place in the file, so the file holds at least that many (free blocks may
        # lie past a file DuckDB shortened)
        block, blocks = self._con.execute("select block_size, used_blocks from pragma_database_size() "
                                          "where database_name = current_database()").fetchone()
        size = self.path.stat().st_size if self.path.exists() else 0
        if size < block * blocks:
            raise LedgerDamaged(f"{self.path} is damaged: it is truncated ({size:,} bytes, but its header lists "
                                f"{blocks:,} blocks of {block:,} bytes in use). {_backup_hint(self.path)}")

    # --- files DuckDB may read ----------------------------------------------------------------------------
    def _harden(self) -> None:
        """Lock DuckDB down before anything touches an upload: it may read and write files only in the staging
        folder (and its own spill folder), load no extension, and no later statement may change that
        (`lock_configuration`). A file named in a hostile CSV cell or a crafted query can't reach the disk."""
        try:
            self.staging_dir.mkdir(parents=True, exist_ok=True)
            clear_dead_staging(self.staging_dir)    # folders of a process that died mid-job
        except OSError as e:
            self._con.close()
            raise DatabaseError(f"cannot prepare the staging folder {self.staging_dir}: {one_line(e)}{_DISK_HINT}") from e
        harden(self._con, self.staging_dir)

    def staging_area(self) -> tempfile.TemporaryDirectory:
        """A fresh folder inside the only one DuckDB may read: an ingest stages every file it reads there."""
        return tempfile.TemporaryDirectory(prefix=f"ingest-{os.getpid()}-", dir=self.staging_dir)

    # --- people ------------------------------------------------------------------------------------------
    def as_user(self, actor: str, teams: Iterable[str] | None = None, *, read_only: bool = False) -> Warehouse:
        """This ledger as one signed-in person sees it: their writes are audited under `actor`, and with
        `teams` given, every read sees only those teams' spend (an empty list: none). `read_only` (a viewer)
        refuses every write. The view shares the owner's connection, writer and data version; closing it closes
        nothing."""
        view = copy.copy(self)
        view._is_view = True
        view._read_only = read_only
        view.inbox_watcher = None
        view.actor = actor
        view.teams = None if teams is None else tuple(sorted({str(t) for t in teams}))
        return view

    # --- reading -------------------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._cursor_lock:
            cur = self._con.cursor()
        if self.teams is not None:
            self._scope(cur)
        return cur

    @staticmethod
    def _scope_statements(catalog: str) -> tuple[str, ...]:
        """The temp views of a team-restricted cursor, built once at open. Only identifiers are spliced: the
        relation names and predicates come from the fixed `_TEAM_SCOPED` table (every one exists once migrations
        ran), the catalog is this file's database name, quoted as an identifier; the teams themselves are rows
        of `scope_teams`, inserted with bound parameters."""
        quoted = '"' + catalog.replace('"', '""') + '"'
        return tuple(f"create temp view {name} as select * from {quoted}.main.{name} where {allowed}"
                     for name, allowed in _TEAM_SCOPED.items())

    def _scope(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Enforce the team restriction in the query layer: on this cursor, temp views named like the ledger's
        team-carrying relations shadow them (DuckDB resolves a name to the temp schema first, also inside the
        main schema's own views such as `usage_replay`), each filtered by a temp table of the allowed teams,
        filled with bound parameters. Every query on the cursor, named or not, sees only those teams."""
        cur.execute("create temp table scope_teams (team varchar primary key)")
        if self.teams:
            cur.executemany("insert into scope_teams values (?)", [[t] for t in self.teams])
        for statement in self._scope_views:
            cur.execute(statement)

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query `sql/queries/<name>.sql` with bound parameters; return a polars frame.
        Raises `sql.UnknownQuery` for a name with no file, DatabaseError (naming the file and the parameters) when
        DuckDB refuses it."""
        return self.sql(sql.load(f"queries/{name}"), **params)

    def sql(self, text: str, *, relations: Mapping[str, pl.DataFrame] | None = None, **params: Any) -> pl.DataFrame:
        """Run `text` (best: `sql.load(...)`, which carries its file name) with bound parameters on a cursor of
        its own; return a polars frame. `relations`: frames the text reads by name (e.g. a million per-request
        grades), registered on that cursor only as Arrow tables for this query (no copy; bound lists of that size
        cost ~14 s per million values). Raises DatabaseError naming the `.sql` file (or, for SQL written in
        Python, the calling line) and the parameter names when DuckDB refuses it."""
        import polars as pl

        cur = self.cursor()
        try:
            for name, frame in (relations or {}).items():
                # as polars holds it: strings as Arrow string views, which DuckDB reads, not copied to
                # large_string (2 M grades' ids and models: ~0.1 cpu-s a query)
                cur.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
            return pl.from_arrow(cur.sql(text, params=params or None).to_arrow_table())
        except duckdb.Error as e:
            raise self._read_error(e, text, params) from e
        finally:
            for name in relations or {}:
                with contextlib.suppress(duckdb.Error):
                    cur.unregister(name)
            cur.close()

    def batches(self, text: str, *, rows: int = 1_000_000, relations: Mapping[str, pl.DataFrame] | None = None,
                **params: Any) -> Iterator[pl.DataFrame]:
        """Run `text` like `sql` but hand its result back in polars frames of at most `rows` rows, streamed from
        DuckDB (an unordered query is never held whole; an ordered one is sorted by DuckDB, spilling to disk under
        its memory limit). The cursor stays open until the generator is exhausted or closed."""
        import polars as pl

        cur = self.cursor()
        try:
            for name, frame in (relations or {}).items():
                cur.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))   # as in `sql`
            reader = cur.sql(text, params=params or None).to_arrow_reader(rows)
            for batch in reader:
                if batch.num_rows:
                    yield pl.from_arrow(batch)
        except duckdb.Error as e:
            raise self._read_error(e, text, params) from e
        finally:
            for name in relations or {}:
                with contextlib.suppress(duckdb.Error):
                    cur.unregister(name)
            cur.close()

    def scalar(self, text: str, **params: Any) -> Any:
        """The first column of the first row of `text` (None when it returns no row). Raises DatabaseError like
        `sql`."""
        cur = self.cursor()
        try:
            row = cur.execute(text, params or None).fetchone()
            return row[0] if row else None
        except duckdb.Error as e:
            raise self._read_error(e, text, params) from e
        finally:
            cur.close()

    def _read_error(self, e: duckdb.Error, text: str, params: Mapping[str, Any]) -> ModelMixError:
        """A read DuckDB refused: LedgerDamaged when the file itself is damaged, else the DatabaseError naming the
        query's file and parameter names."""
        return damaged(self.path, e) if is_damage(e) else query_error(e, text, params)

    @property
    def data_version(self) -> int:
        """Bumped after every committed write (once for all the writes of a `one_version()` block, at its end);
        caches key on it."""
        return self._version_box[0]

    @property
    def scope_key(self) -> tuple[str, ...] | None:
        """What this view may see, for cache keys: None (every team) or the allowed teams."""
        return self.teams

    # --- writing -------------------------------------------------------------------------------------------
    def write(self, fn: Callable[..., T], *args: Any, changes_data: bool = True) -> T:
        """Run `fn(cursor, *args)` on the single writer thread inside one transaction; wait for its result.
        A DuckDB error the job did not turn into a ModelMixError (a full or read-only disk at commit) is raised
        as a DatabaseError; the transaction was rolled back. A team-restricted view may not write (fail closed:
        derived tables rebuilt by a write would otherwise be computed from its filtered view of the data), nor
        may a read-only one. `changes_data=False` (a job that only appends to the audit log, such as a sign-in)
        keeps `data_version`, so it doesn't empty every cached result."""
        if self.teams is not None:
            raise PermissionDenied(f"{self.actor} sees only some teams' spend and cannot change the ledger")
        if self._read_only:
            raise PermissionDenied(f"{self.actor} may look but not change the ledger (viewer role)")
        batch = _ONE_VERSION.get()
        defer = batch if batch is not None and batch.box is self._version_box else None
        try:
            return self._writer.submit(self._in_transaction, self.actor, changes_data, defer, fn, *args).result()
        except duckdb.Error as e:
            if is_damage(e):
                raise damaged(self.path, e) from e
            raise DatabaseError(f"the change to {self.path} was not saved: {one_line(e)}{_DISK_HINT}") from e

    def _in_transaction(self, cur: duckdb.DuckDBPyConnection, actor: str, changes_data: bool,
                        defer: _OneVersion | None, fn: Callable[..., T], *args: Any) -> T:
        token = audit.bind(actor)
        cur.begin()
        try:
            result = fn(cur, *args)
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
        finally:
            audit.unbind(token)
        if changes_data:
            if defer is not None:
                defer.dirty = True      # committed and readable now; published when the block ends
            else:
                self._publish()
        return result

    def _publish(self) -> None:
        """A new `data_version` (every cache keyed on the old one goes stale), then the commit listeners."""
        with self._version_lock:
            self._version_box[0] += 1
        for listener in self._on_commit:
            listener()

    @contextlib.contextmanager
    def one_version(self) -> Iterator[None]:
        """Make the writes this thread submits inside the block one new `data_version`, published when the block
        ends (also when it ends with an error: what committed is in the ledger). Each write still commits on its
        own, all or nothing, and a fresh read sees it at once; only caches keyed on the version (the dashboard's
        query caches, the replays, the warm-up) wait for the block's end, so a job of several files (an inbox
        hand-over, a pull's page) costs every open session and the warm-up one recomputation instead of one per
        file. Writes from other threads (a person saving budgets meanwhile) publish as usual. Nested blocks on
        the same ledger are one block."""
        outer = _ONE_VERSION.get()
        if outer is not None and outer.box is self._version_box:
            yield
            return
        batch = _OneVersion(self._version_box)
        token = _ONE_VERSION.set(batch)
        try:
            yield
        finally:
            _ONE_VERSION.reset(token)
            if batch.dirty:
                self._publish()

    @contextlib.contextmanager
    def held_version(self, key: Hashable, *, release: bool = False, idle: float = 30.0) -> Iterator[None]:
        """`one_version()` for a job whose writes come in several calls, such as a pull: its start, each page and
        its finish are separate inbox hand-overs, so no single block spans them. Every block with the same `key`
        adds to one pending version, published when a block with `release=True` ends (the job's last call), or
        `idle` seconds after the last open block for `key` ended (the job's process died or stalled: what it
        committed must not stay unpublished). Inside an open `one_version()` block (the inbox's, per hand-over)
        this one wins: that block then has nothing of its own to publish."""
        with self._version_lock:
            batch = self._held.get(key)
            if batch is None:
                batch = self._held[key] = _OneVersion(self._version_box)
            batch.active += 1
            if batch.timer is not None:
                batch.timer.cancel()
                batch.timer = None
        token = _ONE_VERSION.set(batch)
        try:
            yield
        finally:
            _ONE_VERSION.reset(token)
            publish = False
            with self._version_lock:
                batch.active -= 1
                if release:
                    publish, batch.dirty = batch.dirty, False
                    if batch.active == 0:
                        del self._held[key]
                elif batch.active == 0:
                    batch.timer = threading.Timer(idle, self._release_idle, (key, batch))
                    batch.timer.daemon = True
                    batch.timer.start()
            if publish:
                self._publish()

    def _release_idle(self, key: Hashable, batch: _OneVersion) -> None:
        """A `held_version` job no call came back for in time: forget it and publish what it committed."""
        with self._version_lock:
            if self._held.get(key) is not batch or batch.active:
                return                  # released meanwhile, or a call of it is running again
            del self._held[key]
            publish, batch.dirty = batch.dirty, False
        if publish:
            self._publish()

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every published change of data: on the writer thread after a commit, or on the
        thread ending a `one_version()` block (it must return at once: the dashboard's warm-up only sets an event)."""
        self._on_commit.append(listener)

    def on_close(self, listener: Callable[[], None]) -> None:
        """Call `listener()` when the owner closes, before the connection does (background readers stop)."""
        self._on_close.append(listener)

    def close(self) -> None:
        if self._is_view:
            return
        for listener in self._on_close:
            listener()
        self._on_close.clear()
        with self._version_lock:
            for batch in self._held.values():
                if batch.timer is not None:
                    batch.timer.cancel()
            self._held.clear()
        if self.inbox_watcher is not None:
            self.inbox_watcher.stop()
            self.inbox_watcher = None
        self._writer.close()
        self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema --------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply, in order, every migration this ledger has not recorded, not only those above its highest: the
        numbers are handed out ahead (docs/design.md, "Migrations"), so a higher one may land before a lower. Each
        runs in its own transaction (a kill mid-way leaves the ledger at the last one committed, and the next open
        applies the rest). A ledger that already holds a schema is first backed up whole into `<ledger>.backups/`
        (`warehouse.backup.before_migration`), so a migration that goes wrong has a way back."""
        con = self._con
        con.execute("create table if not exists schema_version (version integer primary key, applied_at timestamp)")
        applied = {v for (v,) in con.execute("select version from schema_version").fetchall()}
        pending = [(v, text) for v, text in sql.migrations() if v not in applied]
        if pending and applied:
            from warehouse.backup import before_migration   # late: backup builds on this module

            before_migration(con, self.path, max(applied), pending[0][0])
        for version, text in pending:
            con.begin()
            try:
                con.execute(text)
                con.execute("insert into schema_version values (?, now())", [version])
                con.commit()
            except duckdb.Error as e:
                con.rollback()
                if is_damage(e):
                    raise damaged(self.path, e) from e
                raise DatabaseError(f"migration {sql.origin(text) or version} failed on {self.path}: {one_line(e)}. It changed "
                                    f"nothing (the migrations before it are kept). {_backup_hint(self.path)}") from e
            applied.add(version)
        self.schema_version = max(applied, default=0)


def _backup_hint(path: Path) -> str:
    from warehouse.backup import way_back

    return way_back(path)
