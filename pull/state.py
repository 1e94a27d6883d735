"""The pull state in the ledger (`pull_state`, migration 006): one row per (source, stream) with the incremental
cursor and the last run's outcome. Writes go through the warehouse's single writer."""

from __future__ import annotations

import datetime as dt

import polars as pl

import sql
from warehouse import Warehouse
from warehouse.db import execute


def utc_naive(t: dt.datetime | None) -> dt.datetime | None:
    """The ledger stores naive UTC timestamps."""
    if t is None:
        return None
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def utc_aware(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def status(wh: Warehouse) -> pl.DataFrame:
    """Every pulled source and stream: cursor, last run, rows pulled, last error (query `pull_status`)."""
    return wh.query("pull_status")


def cursor(wh: Warehouse, source: str, stream: str) -> dt.datetime | None:
    value = wh.scalar("select loaded_until from pull_state where source = $source and stream = $stream",
                      source=source, stream=stream)
    return utc_aware(value)


def last_ok(wh: Warehouse, source: str, streams: list[str]) -> dt.datetime | None:
    """When every one of `streams` last finished without error (the oldest of them); None if one never did, or
    if its last run failed (so a failed job is due again at once)."""
    rows = {s: (ok, st) for s, ok, st in wh.sql("select stream, last_ok_at, last_status from pull_state "
                                               "where source = $source", source=source).rows()}
    found = [rows.get(s, (None, None)) for s in streams]
    if any(ok is None or st != "ok" for ok, st in found):
        return None
    return utc_aware(min(ok for ok, _ in found))


def start(wh: Warehouse, source: str, stream: str, kind: str, now: dt.datetime) -> None:
    wh.write(_run, "writes/pull_state_start", {"source": source, "stream": stream, "kind": kind,
                                               "now": utc_naive(now)})


def page(wh: Warehouse, source: str, stream: str, loaded: int, duplicate: int,
         loaded_until: dt.datetime | None) -> None:
    wh.write(_run, "writes/pull_state_page", {"source": source, "stream": stream, "loaded": loaded,
                                              "duplicate": duplicate, "loaded_until": utc_naive(loaded_until)})


def finish(wh: Warehouse, source: str, stream: str, now: dt.datetime, error: str | None) -> None:
    wh.write(_run, "writes/pull_state_finish", {"source": source, "stream": stream, "now": utc_naive(now),
                                                "error": error})


INTERRUPTED = ("interrupted: the process running this pull stopped before it finished (killed or crashed); the "
               "rows of its committed pages are kept, and the next run starts again from its cursor")


def clear_dead_runs(wh: Warehouse, now: dt.datetime | None = None) -> None:
    """Mark runs left 'running' by a process that died as failed (INTERRUPTED). Only for a process that just
    opened the ledger as its owner: no pull of it can be running then."""
    wh.write(_run, "writes/pull_state_interrupted",
             {"now": utc_naive(now or dt.datetime.now(dt.timezone.utc)), "error": INTERRUPTED})


def _run(cur, name: str, params: dict) -> None:
    execute(cur, sql.load(name), params)
