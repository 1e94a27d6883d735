"""Write jobs on the ledger that other parts share: derived tables refreshed after any change of data, rules or
prices, and removing an upload. Each function runs on the writer's cursor inside its transaction."""

from __future__ import annotations

import duckdb

import sql
from warehouse import audit, prices


def refresh_derived(cur: duckdb.DuckDBPyConnection) -> None:
    """Model names resolved, attribution applied, rollups rebuilt: everything the view's readers rely on."""
    prices.resolve_new_models(cur)
    cur.execute(sql.load("writes/apply_attribution"))
    cur.execute(sql.load("writes/refresh_source_choice"))
    cur.execute(sql.load("writes/refresh_usage_daily"))


def remove_ingest(cur: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
    """Take one upload's rows out of the ledger; its log row stays, marked removed, so history is kept."""
    removed = cur.execute("delete from usage_raw where ingest_id = $id", {"id": ingest_id}).fetchone()[0]
    cur.execute("update ingest_log set status = 'removed' where ingest_id = $id", {"id": ingest_id})
    refresh_derived(cur)
    name = cur.execute("select file_name from ingest_log where ingest_id = $id", {"id": ingest_id}).fetchone()
    audit.record(cur, "remove_upload", name[0] if name else None, {"ingest_id": ingest_id, "rows_removed": removed})
    return removed
