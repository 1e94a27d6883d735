"""Backup and restore of the whole ledger: DuckDB's EXPORT DATABASE / IMPORT DATABASE (schema.sql, load.sql and
one Parquet file per table: usage, ingest_log and rejects, rules, overrides, aliases, budgets, scenarios,
quality, the catalog, sequences at their current value), plus `modelmix-backup.json` with each table's row
count, checked again after a restore.

Every backup is recorded in `<ledger>.backups/index.jsonl` (folder, time, kind), so a damaged ledger's message
can name the last one (`way_back`). Before a migration changes a ledger that already holds a schema, the ledger
is backed up whole into `<ledger>.backups/before-migration-NNN-<time>/` (`before_migration`; the newest
`KEEP_MIGRATION_BACKUPS` are kept).

EXPORT/IMPORT take a folder literal, not a bound parameter (DuckDB's parser refuses `?` there), so the path is
the one value this module writes into SQL: resolved to an absolute path, refused if it holds a quote-breaking
control character, and quoted by doubling `'` (`_literal`). A restore imports through a connection hardened
like every other (`warehouse.db.harden`): the backup's files are linked into the ledger's staging folder and
DuckDB may touch nothing else, so a hostile `load.sql` can't read or write files elsewhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import duckdb

import sql
from warehouse import audit
from warehouse.db import Warehouse, clear_dead_staging, harden, is_damage, one_line
from warehouse.errors import DatabaseError, ModelMixError

MANIFEST = "modelmix-backup.json"
INDEX = "index.jsonl"
FILE_COPY = "ledger.duckdb"    # a backup made before a migration: the database file itself
KEEP_MIGRATION_BACKUPS = 3
# filled on a new, empty ledger (the price catalog and derived tables): not "data" when deciding whether a
# restore would overwrite someone's ledger
_BUILT_IN = {"schema_version", "catalog_prices", "meta", "model_map", "usage_daily", "spend_daily", "key_daily",
             "people_monthly", "replay_stored", "replay_buckets", "source_choice", "dim_attribution"}
# what EXPORT DATABASE writes (format parquet); a restore refuses a folder holding anything else
_BACKUP_FILE = re.compile(r"^(schema\.sql|load\.sql|[A-Za-z0-9_.\-]+\.parquet|modelmix-backup\.json)$")


class BackupError(ModelMixError):
    title = "Backup/restore refused"


def backups_dir(ledger: str | Path) -> Path:
    """Where the automatic backups of `ledger` and the index of every backup live."""
    p = Path(ledger)
    return p.with_name(p.name + ".backups")


def _literal(path: Path) -> str:
    try:
        return sql.path_literal(path)
    except ValueError as e:
        raise BackupError(str(e)) from None


def _counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [r[0] for r in cur.execute(
        "select table_name from duckdb_tables() where not temporary and schema_name = 'main' order by 1").fetchall()]
    # a table name comes from the catalog, never from input; quoted as an identifier
    return {n: cur.execute('select count(*) from "' + n.replace('"', '""') + '"').fetchone()[0] for n in names}


def _views_after_their_sources(schema: Path) -> None:
    """EXPORT DATABASE writes macros and views in name order (macros after a reopen: in creation order only in
    the process that made them), but IMPORT binds a view, and a table macro's table functions, when it creates
    it: a view over a later-named one (`usage` over `usage_keyed`, migration 009) or a macro calling a
    later-named macro (`anthropic_report_results` over `api_page_results`, migration 023) would fail to restore.
    Put every macro and view after the macros and views its text names, macros and views after everything else
    (one statement per line, as DuckDB writes them)."""
    lines = schema.read_text(encoding="utf-8").splitlines(keepends=True)
    defined = {m.group(1): line for line in lines if (m := re.match(r"CREATE (?:VIEW|MACRO) (\w+)\b", line))}
    done: list[str] = []

    def place(name: str, seen: frozenset[str] = frozenset()) -> None:
        if name in done or name in seen:
            return
        for other in defined:
            if other != name and re.search(rf"\b{other}\b", defined[name]):
                place(other, seen | {name})
        done.append(name)

    for name in defined:
        place(name)
    rest = [line for line in lines if line not in defined.values()]
    schema.write_text("".join(rest + [defined[n] for n in done]), encoding="utf-8")


def _export(cur: duckdb.DuckDBPyConnection, exported: Path) -> tuple[dict[str, int], int]:
    """EXPORT DATABASE into `exported` from one snapshot; (row count per table, schema version)."""
    cur.begin()                      # counts and export read the same snapshot
    try:
        counts = _counts(cur)
        version = cur.execute("select max(version) from schema_version").fetchone()[0]
        cur.execute("export database " + _literal(exported) + " (format parquet)")
    except BaseException:
        cur.rollback()
        raise
    cur.commit()
    _views_after_their_sources(exported / "schema.sql")
    return counts, version


def _finish(folder: Path, ledger: Path, counts: dict[str, int], version: int, kind: str) -> dict:
    """Write the manifest (last: a folder without one is not a backup) and record the backup in the index."""
    manifest = {"created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "source": str(ledger), "schema_version": version, "kind": kind, "tables": counts}
    tmp = folder / (MANIFEST + ".part")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    index = backups_dir(ledger)
    index.mkdir(parents=True, exist_ok=True)
    with open(index / INDEX, "a", encoding="utf-8") as fh:    # one short line: one write
        fh.write(json.dumps({"folder": str(folder.resolve()), "created_at": manifest["created_at"],
                             "kind": kind}) + "\n")
    return manifest


def backup(wh: Warehouse, folder: str | Path) -> dict:
    """Write the whole ledger to `folder` (new or empty) as one consistent snapshot; returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    cur = wh.cursor()
    # DuckDB may write only inside the ledger's staging folder (Warehouse._harden): export there, then move the
    # files out (IMPORT DATABASE finds them relative to the folder it is given)
    with wh.staging_area() as area:
        exported = Path(area) / "export"
        try:
            counts, version = _export(cur, exported)
            for f in sorted(exported.iterdir()):
                shutil.move(f, folder / f.name)
        except (duckdb.Error, OSError) as e:
            raise DatabaseError(f"backup to {folder} failed: {one_line(e)}; check the folder is writable and has "
                                "free space") from e
        finally:
            cur.close()
    return _finish(folder, wh.path, counts, version, "backup")


def before_migration(con: duckdb.DuckDBPyConnection, ledger: Path, current: int, upcoming: int) -> Path:
    """Back up a ledger at schema `current` before migration `upcoming` changes it (called while opening, before
    the connection is hardened); keeps the newest KEEP_MIGRATION_BACKUPS such backups. A folder left by a process
    killed mid-backup (no manifest) is removed first: only this process can hold the ledger now.

    This backup is a copy of the database file after a checkpoint (`FILE_COPY`), not EXPORT DATABASE: this
    process holds the file's lock, so nothing changes under the copy, and a copy takes seconds where EXPORT
    DATABASE needs minutes (duckdb 2.0.1 turns every UHUGEINT `row_key` into text: 180 s for 600,000 rows)."""
    home = backups_dir(ledger)
    home.mkdir(parents=True, exist_ok=True)
    for left in home.glob("before-migration-*"):
        if left.is_dir() and not (left / MANIFEST).is_file():
            shutil.rmtree(left, ignore_errors=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = home / f"before-migration-{upcoming:03d}-{stamp}"
    cur = con.cursor()
    try:
        cur.execute("checkpoint")                 # everything in the file itself, nothing left in the .wal
        counts = _counts(cur)
        version = cur.execute("select max(version) from schema_version").fetchone()[0]
        folder.mkdir()
        shutil.copyfile(ledger, folder / FILE_COPY)
    except (duckdb.Error, OSError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, duckdb.Error) and is_damage(e):
            raise
        raise DatabaseError(f"{ledger} needs migration {upcoming}, and the backup made before every migration "
                            f"failed: {one_line(e)}; free disk space beside the ledger and open it again (nothing "
                            "was changed)") from e
    finally:
        cur.close()
    _finish(folder, ledger, counts, version, f"before migration {upcoming} (schema {current})")
    done = sorted((p for p in home.glob("before-migration-*") if (p / MANIFEST).is_file()),
                  key=lambda p: p.name.rsplit("-", 1)[-1])
    for old in done[:-KEEP_MIGRATION_BACKUPS]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def backups(ledger: str | Path) -> list[dict]:
    """Every backup of `ledger` that still exists whole (its manifest readable), newest first: folder,
    created_at, kind, usage rows."""
    found: dict[str, dict] = {}
    home = backups_dir(ledger)
    lines = []
    try:
        lines = (home / INDEX).read_text(encoding="utf-8").splitlines()
    except OSError:
        pass
    folders = [json.loads(line)["folder"] for line in lines if line.strip().startswith("{")]
    folders += [str(p.resolve()) for p in home.glob("before-migration-*")]   # also if the index was lost
    for order, folder in enumerate(folders):       # the index is in the order backups were made
        try:
            m = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.setdefault(folder, {"folder": folder, "created_at": m.get("created_at", ""),
                                  "kind": m.get("kind", "backup"), "usage_rows": m.get("tables", {}).get("usage_raw", 0),
                                  "order": order})
    return sorted(found.values(), key=lambda b: (b["created_at"], b["order"]), reverse=True)


def way_back(ledger: str | Path) -> str:
    """What to do about a damaged ledger: restore its last backup (named), else what is left."""
    ledger = Path(ledger)
    wal = Path(str(ledger) + ".wal")
    hint = (f" Or, if only its write-ahead log is damaged, move {wal.name} aside: the ledger opens as of its last "
            "checkpoint (changes since then are lost).") if wal.exists() else ""
    found = backups(ledger)
    if not found:
        return (f"No backup of it is known: restore one you made with `modelmix restore DIR --db {ledger} --force`, "
                f"or move the file aside and load the exports again.{hint}")
    last = found[0]
    return (f"The way back is its last backup, {last['folder']} ({last['kind']}, {last['created_at']}, "
            f"{last['usage_rows']:,} usage rows): `modelmix restore {last['folder']} --db {ledger} --force` "
            f"(the damaged file is kept beside it).{hint}")


def _has_data(path: Path) -> bool:
    with Warehouse(path) as wh:
        cur = wh.cursor()
        try:
            return any(n not in _BUILT_IN and c for n, c in _counts(cur).items())
        finally:
            cur.close()


def _stage_backup(folder: Path, staging: Path) -> Path:
    """The backup's files, linked (or copied) into a fresh folder inside the ledger's staging folder: the only
    place the hardened import may read. Refuses anything EXPORT DATABASE does not write (subfolders, links,
    other names)."""
    entries = sorted(folder.iterdir())
    foreign = [p.name for p in entries if p.is_symlink() or not p.is_file() or not _BACKUP_FILE.match(p.name)]
    if foreign:
        raise BackupError(f"{folder} holds {', '.join(foreign[:5])}, which `modelmix backup` never writes; give "
                          "the folder exactly as the backup wrote it")
    staging.mkdir(parents=True, exist_ok=True)
    clear_dead_staging(staging)
    area = Path(tempfile.mkdtemp(prefix=f"ingest-{os.getpid()}-restore-", dir=staging))
    for p in entries:
        if p.name == MANIFEST:
            continue
        if p.name == "schema.sql":      # a copy, put in order (a backup taken before the order was fixed)
            shutil.copyfile(p, area / p.name)
            _views_after_their_sources(area / p.name)
            continue
        try:
            os.link(p, area / p.name)
        except OSError:
            shutil.copyfile(p, area / p.name)
    return area


def restore(folder: str | Path, path: str | Path, *, force: bool = False) -> dict:
    """Rebuild the ledger at `path` from a backup folder. Refuses to replace a ledger holding data unless
    `force`. The import runs into a new file beside it through a hardened connection, is checked table by table
    against the manifest, and only then replaces `path` (so a failed restore leaves the old ledger as it was; a
    damaged one is kept as `<ledger>.damaged`). Recorded in the audit log. Returns the manifest."""
    folder, path = Path(folder), Path(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"{folder} is not a ModelMix backup (no readable {MANIFEST}); give the folder "
                          "`modelmix backup` wrote") from e
    damaged = False
    if path.exists():
        try:
            holds_data = _has_data(path)
        except DatabaseError as e:
            if not force:
                raise BackupError(f"{path} cannot be opened ({e.message}); add --force to replace it") from e
            damaged = True
        else:
            if holds_data and not force:
                raise BackupError(f"{path} already holds a ledger with data; restore into a new file, or add "
                                  "--force to replace it")
    target = path.with_name(path.name + ".restoring")
    for p in (target, Path(str(target) + ".wal")):
        p.unlink(missing_ok=True)
    if (folder / FILE_COPY).is_file():
        got = _copy_back(folder, target, path.with_name(path.name + ".staging"))
    else:
        got = _import(folder, target, path.with_name(path.name + ".staging"))
    wrong = {t: (n, got.get(t)) for t, n in manifest["tables"].items() if got.get(t) != n}
    if wrong:
        target.unlink(missing_ok=True)
        raise BackupError(f"restore from {folder} does not match its manifest (table: expected, got): {wrong}; "
                          "the backup is damaged")
    wal = Path(str(path) + ".wal")
    if damaged:
        os.replace(path, path.with_name(path.name + ".damaged"))
        if wal.exists():
            os.replace(wal, path.with_name(path.name + ".damaged.wal"))
    wal.unlink(missing_ok=True)
    os.replace(target, path)
    # migrates a backup from an older version forward, checks it opens, and records the restore
    with Warehouse(path) as wh:
        wh.write(_record_restore, str(folder.resolve()), manifest.get("created_at"), damaged)
    return manifest


def _import(folder: Path, target: Path, staging_dir: Path) -> dict[str, int]:
    """IMPORT DATABASE of an EXPORT folder into the new file `target`, hardened; the row count per table."""
    area = _stage_backup(folder, staging_dir)
    try:
        con = duckdb.connect(str(target))
        try:
            harden(con, staging_dir)
            con.execute("import database " + _literal(area))
            return _counts(con)
        finally:
            con.close()
    except duckdb.Error as e:
        target.unlink(missing_ok=True)
        raise DatabaseError(f"restore from {folder} failed: {one_line(e)}") from e
    finally:
        shutil.rmtree(area, ignore_errors=True)


def _copy_back(folder: Path, target: Path, staging_dir: Path) -> dict[str, int]:
    """A file-copy backup (made before a migration) copied to `target` and opened hardened; its counts."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(folder / FILE_COPY, target)
        con = duckdb.connect(str(target))
        try:
            harden(con, staging_dir)
            return _counts(con)
        finally:
            con.close()
    except (duckdb.Error, OSError) as e:
        target.unlink(missing_ok=True)
        raise DatabaseError(f"restore from {folder} failed: {one_line(e)}") from e


def _record_restore(cur: duckdb.DuckDBPyConnection, folder: str, created_at: str | None, damaged: bool) -> None:
    audit.record(cur, "restore", folder, {"backup_created_at": created_at, "replaced_damaged_ledger": damaged})
