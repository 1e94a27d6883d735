"""The lake: the ledger's rows as Hive-partitioned Parquet, for an engine that reads Parquet (Spark, see
docs/scale-out.md). `modelmix lake export DIR` writes

    DIR/usage/month=YYYY-MM/provider=P/part-0.parquet   the rows of sql/queries/lake_rows.sql (ids, prices and
                                                        attribution resolved, source choice, the replay's row hash)
    DIR/tables/<name>.parquet                           the small tables the same SQL joins (TABLES)
    DIR/_modelmix_lake.json                             the manifest: each partition's row count and fingerprint

Incremental: the fingerprints (sql/queries/lake_partitions.sql) are compared with the manifest's, and only a
partition whose rows changed (a load, a removal, a price, rule or source-choice change) is written again; one
that no longer has rows is deleted. Everything is read in one transaction, so the files are one snapshot.
A file is written beside its place and renamed into it, so a reader never sees half a file.

Rows are streamed from DuckDB as Arrow batches and written with pyarrow (DuckDB itself may write only in the
ledger's staging folder, Warehouse._harden), so memory stays at a batch.
"""

from __future__ import annotations

import datetime as dt
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
# small tables the replay and the headline spend queries join, written whole at every export
TABLES = ("usage_daily", "spend_daily", "catalog_prices", "quality_scores", "source_choice", "model_map",
          "model_aliases", "price_overrides", "budgets")
BATCH_ROWS = 500_000


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


def export(wh: Warehouse, folder: str | Path) -> dict[str, Any]:
    """Bring `folder` up to date with the ledger; returns what was done (partitions written, kept, deleted)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    old: dict[str, Any] = {}
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8")).get("partitions", {})
        except (OSError, ValueError) as e:
            raise LakeError(f"{manifest_path}: unreadable ({e}); delete the folder and export again") from e
    elif any(folder.iterdir()):
        raise LakeError(f"{folder} is not empty and holds no {MANIFEST}; export into a new folder or a lake "
                        "this command wrote")
    started = time.perf_counter()
    cur = wh.cursor()
    written, kept, rows_written = [], [], 0
    cur.execute("begin transaction")          # one snapshot for the fingerprints, the rows and the tables
    try:
        parts = execute(cur, sql.load("queries/lake_partitions")).fetchall()
        new = {f"{m}/{p}": {"month": m, "provider": p, "rows": n, "fingerprint": f} for m, p, n, f in parts}
        for key, part in new.items():
            path = partition_path(folder, part["month"], part["provider"])
            before = old.get(key)
            if before and before.get("rows") == part["rows"] and before.get("fingerprint") == part["fingerprint"] \
                    and path.exists():
                kept.append(key)
                continue
            first, last = _month_bounds(part["month"])
            n = _write(cur, sql.load("queries/lake_rows"),
                       {"month_start": first, "month_end": last, "provider": part["provider"]}, path)
            if n != part["rows"]:
                raise LakeError(f"partition {key}: wrote {n:,} rows, expected {part['rows']:,}")
            written.append(key)
            rows_written += n
        for name in TABLES:
            # a table name from the fixed tuple above, never from input
            _write(cur, f"select * from {name}", {}, folder / "tables" / f"{name}.parquet")
    finally:
        cur.execute("rollback")
    deleted = sorted(set(old) - set(new))
    for key in deleted:
        month, provider = key.split("/", 1)
        shutil.rmtree(partition_path(folder, month, provider).parent, ignore_errors=True)
    manifest = {"format": 1, "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "ledger": str(wh.path), "partitions": new, "tables": list(TABLES)}
    tmp = manifest_path.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, manifest_path)
    return {"folder": str(folder), "partitions": len(new), "written": written, "kept": len(kept),
            "deleted": deleted, "rows_written": rows_written, "seconds": round(time.perf_counter() - started, 2)}
