"""The lake: the ledger's rows as Hive-partitioned Parquet, for an engine that reads Parquet (Spark, see
docs/scale-out.md). `modelmix lake export DIR` writes

    DIR/usage/month=YYYY-MM/provider=P/part-0.parquet   the rows of sql/queries/lake_rows.sql (ids, prices and
                                                        attribution resolved, source choice, the replay's row hash)
    DIR/tables/usage_daily/month=YYYY-MM/part-0.parquet the day rollup, one file per month (PARTITIONED_TABLE)
    DIR/tables/<name>.parquet                           the other small tables the same SQL joins (TABLES)
    DIR/_modelmix_lake.json                             the manifest: each partition's row count and fingerprints

Incremental, at a cost that does not follow the ledger's priced rows. Each partition has two fingerprints: a raw
one from `usage_raw` alone (sql/queries/lake_partitions_raw.sql: keys, ingest ids and the fields a later export
fills in) and a priced one (sql/queries/lake_partitions.sql: through the priced view). While the tables that
price and attribute rows are unchanged (sql/queries/lake_pricing_state.sql, a hash of each), a partition is
written again only if its raw fingerprint moved, and the priced fingerprint is computed only for the months
written. After a price, rule or alias change, or a self-hosted rate that moved, every partition's priced
fingerprint is compared, and any partition whose priced or raw fingerprint moved is written. A lake whose rows
another text of sql/queries/lake_rows.sql wrote (an older version) is written again whole. A partition that no
longer has rows is deleted.
`usage_daily` is written per month: the months of the partitions written or deleted, every month after a price
change (its reconciliation columns read catalog prices too), and any month whose row count moved.
Everything is read in one transaction, so the files are one snapshot. A file is written beside its place and
renamed into it, so a reader never sees half a file; the manifest is written last.

Rows are streamed from DuckDB as Arrow batches and written with pyarrow (DuckDB itself may write only in the
ledger's staging folder, Warehouse._harden), so memory stays at a batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

import sql
from warehouse.db import Warehouse, execute, query_error
from warehouse.errors import ModelMixError

MANIFEST = "_modelmix_lake.json"
FORMAT = 2
# the day rollup, large (a row per day x user x key x ...): one file per month, so an export rewrites its touched
# months only; Spark reads the folder (warehouse/spark.py) and drops the folder's `month` column
PARTITIONED_TABLE = "usage_daily"
# small tables the replay and the headline spend queries join, written whole at every export
TABLES = ("usage_daily", "spend_daily", "catalog_prices", "quality_scores", "source_choice", "model_map",
          "model_aliases", "price_overrides", "budgets")
# the query whose text decides what the files hold: a lake written by other text is written again whole (a
# fingerprint query that changed needs no entry: every fingerprint it gives then differs from the manifest's)
BASIS_QUERIES = ("queries/lake_rows",)
BATCH_ROWS = 500_000
ALL_TIME = (dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31))


class LakeError(ModelMixError):
    title = "Lake export failed"


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def _write(cur: Any, text: str, params: dict[str, Any], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    try:   # DuckDB may refuse the query at once or while streaming: either way the error names its file
        reader = cur.sql(text, params=params).to_arrow_reader(BATCH_ROWS)
        rows = 0
        with pq.ParquetWriter(tmp, reader.schema, compression="zstd") as out:
            for batch in reader:
                out.write_batch(batch)
                rows += batch.num_rows
    except duckdb.Error as e:
        tmp.unlink(missing_ok=True)
        raise query_error(e, text, params) from e
    os.replace(tmp, path)
    return rows


def partition_path(folder: Path, month: str, provider: str) -> Path:
    # a provider id is a short lower-case slug; anything that would leave the folder is refused
    if "/" in provider or provider in ("", ".", "..") or "\0" in provider:
        raise LakeError(f"provider {provider!r} cannot name a partition folder")
    return folder / "usage" / f"month={month}" / f"provider={provider}" / "part-0.parquet"


def daily_path(folder: Path, month: str) -> Path:
    return folder / "tables" / PARTITIONED_TABLE / f"month={month}" / "part-0.parquet"


def _basis() -> str:
    """What the files were written by: the format and the text of the rows query."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for name in BASIS_QUERIES:
        digest.update(str(sql.load(name)).encode())
    return digest.hexdigest()[:16]


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LakeError(f"{path}: unreadable ({e}); delete the folder and export again") from e
    if any(folder.iterdir()):
        raise LakeError(f"{folder} is not empty and holds no {MANIFEST}; export into a new folder or a lake "
                        "this command wrote")
    return {}


def _priced(cur: Any, months: set[str] | None) -> dict[str, int]:
    """The priced fingerprint of every partition of `months` (every month: None), by partition key; one query
    per month, each reading only its month's rows (a backfill of an old month beside today's costs two months)."""
    spans = [ALL_TIME] if months is None else [
        (dt.datetime.combine(first, dt.time()), dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
        for first, last in map(_month_bounds, sorted(months))]
    out = {}
    for ts_from, ts_to in spans:
        rows = execute(cur, sql.load("queries/lake_partitions"), {"ts_from": ts_from, "ts_to": ts_to}).fetchall()
        out.update({f"{m}/{p}": f for m, p, _, f in rows})
    return out


def _changed(old: dict[str, Any], new: dict[str, Any], folder: Path, same_basis: bool,
             priced: dict[str, int] | None) -> list[str]:
    """Partitions to write: new or missing on disk; written by another rows query (not `same_basis`); row count
    or raw fingerprint moved; or, with `priced` (every partition's priced fingerprint, after a price change),
    that moved."""
    out = []
    for key, part in new.items():
        before = old.get(key) or {}
        moved = (not same_basis or before.get("rows") != part["rows"]
                 or before.get("raw_fingerprint") != part["raw_fingerprint"]
                 or (priced is not None and before.get("fingerprint") != priced[key]))
        if moved or not partition_path(folder, part["month"], part["provider"]).exists():
            out.append(key)
    return out


def export(wh: Warehouse, folder: str | Path) -> dict[str, Any]:
    """Bring `folder` up to date with the ledger; returns what was done (partitions written, kept, deleted)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(folder)
    old = manifest.get("partitions", {})
    basis = _basis()
    started = time.perf_counter()
    cur = wh.cursor()
    rows_written = 0
    cur.execute("begin transaction")          # one snapshot for the fingerprints, the rows and the tables
    try:
        raw = execute(cur, sql.load("queries/lake_partitions_raw")).fetchall()
        new = {f"{m}/{p}": {"month": m, "provider": p, "rows": n, "raw_fingerprint": str(f)} for m, p, n, f in raw}
        pricing = {name: [n, str(f)] for name, n, f in execute(cur, sql.load("queries/lake_pricing_state")).fetchall()}
        same_basis = manifest.get("basis") == basis
        repriced = not same_basis or manifest.get("pricing") != pricing
        # after a price change every priced fingerprint is compared (on a lake of another rows query, every
        # partition is written: its fingerprints are needed for the manifest all the same)
        priced_all = _priced(cur, None) if repriced else None
        written = _changed(old, new, folder, same_basis, priced_all)
        priced = priced_all if priced_all is not None else _priced(cur, {new[k]["month"] for k in written})
        for key, part in new.items():
            part["fingerprint"] = priced[key] if key in priced else old[key]["fingerprint"]
        for key in written:
            part = new[key]
            first, last = _month_bounds(part["month"])
            n = _write(cur, sql.load("queries/lake_rows"),
                       {"month_start": first, "month_end": last, "provider": part["provider"]},
                       partition_path(folder, part["month"], part["provider"]))
            if n != part["rows"]:
                raise LakeError(f"partition {key}: wrote {n:,} rows, expected {part['rows']:,}")
            rows_written += n
        deleted = sorted(set(old) - set(new))
        daily = _export_daily(cur, folder, manifest.get("daily_months", {}), repriced,
                              {k.split("/", 1)[0] for k in [*written, *deleted]})
        for name in TABLES:
            if name != PARTITIONED_TABLE:
                # a table name from the fixed tuple above, never from input
                _write(cur, f"select * from {name}", {}, folder / "tables" / f"{name}.parquet")
    finally:
        cur.execute("rollback")
    for key in deleted:
        month, provider = key.split("/", 1)
        shutil.rmtree(partition_path(folder, month, provider).parent, ignore_errors=True)
    for month in daily["deleted"]:
        shutil.rmtree(daily_path(folder, month).parent, ignore_errors=True)
    (folder / "tables" / f"{PARTITIONED_TABLE}.parquet").unlink(missing_ok=True)   # a format-1 lake's single file
    out = {"format": FORMAT, "basis": basis,
           "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "ledger": str(wh.path), "pricing": pricing, "partitions": new, "daily_months": daily["months"],
           "tables": list(TABLES)}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(out, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return {"folder": str(folder), "partitions": len(new), "written": written, "kept": len(new) - len(written),
            "deleted": deleted, "rows_written": rows_written, "repriced": repriced,
            "daily_months_written": daily["written"], "seconds": round(time.perf_counter() - started, 2)}


def _export_daily(cur: Any, folder: Path, old: dict[str, int], repriced: bool, touched: set[str]) -> dict[str, Any]:
    """Write `usage_daily`'s months that need it: every month after a price change (`repriced`), else the months
    `touched` by a partition written or deleted, a month whose row count moved from the manifest's (`old`), or
    whose file is missing. Returns the months' row counts, the months written and the months gone."""
    # the table named in the statements themselves (PARTITIONED_TABLE names it in paths and messages)
    counts = dict(cur.execute("select strftime(day, '%Y-%m') as month, count(*) from usage_daily "
                              "group by month").fetchall())
    written = []
    for month in sorted(counts):
        if repriced or month in touched or old.get(month) != counts[month] or not daily_path(folder, month).exists():
            first, last = _month_bounds(month)
            n = _write(cur, "select * from usage_daily where day between $first_day and $last_day",
                       {"first_day": first, "last_day": last}, daily_path(folder, month))
            if n != counts[month]:
                raise LakeError(f"{PARTITIONED_TABLE} {month}: wrote {n:,} rows, expected {counts[month]:,}")
            written.append(month)
    return {"months": counts, "written": written, "deleted": sorted(set(old) - set(counts))}
