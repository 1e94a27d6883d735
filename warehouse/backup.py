"""Backup and restore of the whole ledger: DuckDB's EXPORT DATABASE / IMPORT DATABASE (schema.sql, load.sql and
one Parquet file per table: usage, ingest_log and rejects, rules, overrides, aliases, budgets, scenarios,
quality, the catalog, sequences at their current value), plus `modelmix-backup.json` with each table's row
count, checked again after a restore.

EXPORT/IMPORT take a folder literal, not a bound parameter (DuckDB's parser refuses `?` there), so the path is
the one value this module writes into SQL: resolved to an absolute path, refused if it holds a quote-breaking
control character, and quoted by doubling `'` (`_literal`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import duckdb

from warehouse.db import Warehouse, one_line
from warehouse.errors import DatabaseError, ModelMixError

MANIFEST = "modelmix-backup.json"
# filled on a new, empty ledger (the price catalog and derived tables): not "data" when deciding whether a
# restore would overwrite someone's ledger
_BUILT_IN = {"schema_version", "catalog_prices", "meta", "model_map", "usage_daily", "source_choice",
             "dim_attribution"}


class BackupError(ModelMixError):
    title = "Backup/restore refused"


def _literal(path: Path) -> str:
    text = str(path.resolve())
    if any(c in text for c in "\0\n\r"):
        raise BackupError(f"{text!r}: a folder name with control characters cannot be used; pick another folder")
    return "'" + text.replace("'", "''") + "'"


def _counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [r[0] for r in cur.execute(
        "select table_name from duckdb_tables() where not temporary and schema_name = 'main' order by 1").fetchall()]
    # a table name comes from the catalog, never from input; quoted as an identifier
    return {n: cur.execute('select count(*) from "' + n.replace('"', '""') + '"').fetchone()[0] for n in names}


def _views_after_their_sources(schema: Path) -> None:
    """EXPORT DATABASE writes views in name order, but IMPORT binds each view when it creates it, so a view over a
    later-named one (`usage` over `usage_keyed`, migration 009) would fail to restore: put every view after the
    views its text names (one statement per line, as DuckDB writes them)."""
    lines = schema.read_text(encoding="utf-8").splitlines(keepends=True)
    views = {m.group(1): line for line in lines if (m := re.match(r"CREATE VIEW (\w+) AS ", line))}
    done: list[str] = []

    def place(name: str, seen: frozenset[str] = frozenset()) -> None:
        if name in done or name in seen:
            return
        for other in views:
            if other != name and re.search(rf"\b{other}\b", views[name]):
                place(other, seen | {name})
        done.append(name)

    for name in views:
        place(name)
    rest = [line for line in lines if line not in views.values()]
    schema.write_text("".join(rest + [views[n] for n in done]), encoding="utf-8")


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
            cur.begin()                      # counts and export read the same snapshot
            counts = _counts(cur)
            version = cur.execute("select max(version) from schema_version").fetchone()[0]
            cur.execute("export database " + _literal(exported) + " (format parquet)")
            cur.commit()
            _views_after_their_sources(exported / "schema.sql")
            for f in sorted(exported.iterdir()):
                shutil.move(f, folder / f.name)
        except (duckdb.Error, OSError) as e:
            raise DatabaseError(f"backup to {folder} failed: {one_line(e)}; check the folder is writable and has "
                                "free space") from e
        finally:
            cur.close()
    manifest = {"created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "source": str(wh.path), "schema_version": version, "tables": counts}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _has_data(path: Path) -> bool:
    with Warehouse(path) as wh:
        cur = wh.cursor()
        try:
            return any(n not in _BUILT_IN and c for n, c in _counts(cur).items())
        finally:
            cur.close()


def restore(folder: str | Path, path: str | Path, *, force: bool = False) -> dict:
    """Rebuild the ledger at `path` from a backup folder. Refuses to replace a ledger holding data unless
    `force`. The import runs into a new file beside it, is checked table by table against the manifest, and only
    then replaces `path` (so a failed restore leaves the old ledger as it was). Returns the manifest."""
    folder, path = Path(folder), Path(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"{folder} is not a ModelMix backup (no readable {MANIFEST}); give the folder "
                          "`modelmix backup` wrote") from e
    if path.exists() and not force and _has_data(path):
        raise BackupError(f"{path} already holds a ledger with data; restore into a new file, or add --force to "
                          "replace it")
    staging = path.with_name(path.name + ".restoring")
    for p in (staging, Path(str(staging) + ".wal")):
        p.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(staging))
        try:
            con.execute("import database " + _literal(folder))
            got = _counts(con)
        finally:
            con.close()
    except duckdb.Error as e:
        staging.unlink(missing_ok=True)
        raise DatabaseError(f"restore from {folder} failed: {one_line(e)}") from e
    wrong = {t: (n, got.get(t)) for t, n in manifest["tables"].items() if got.get(t) != n}
    if wrong:
        staging.unlink(missing_ok=True)
        raise BackupError(f"restore from {folder} does not match its manifest (table: expected, got): {wrong}; "
                          "the backup is damaged")
    Path(str(path) + ".wal").unlink(missing_ok=True)
    os.replace(staging, path)
    Warehouse(path).close()              # migrates a backup from an older version forward; checks it opens
    return manifest
