"""Synthetic daily ledgers for the finance tests: canonical CSV (granularity `day`, billed `cost_usd`), loaded
through ingest into a real DuckDB ledger. Seeded numpy Generators only."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from ingest import ingest_paths

HEADER = ["ts", "granularity", "provider", "model", "project", "team", "api_key", "requests", "input_tokens",
          "cache_read_tokens", "output_tokens", "service_tier", "cost_usd"]
_counter = iter(range(1_000_000))


def load_daily(wh, tmp_path: Path, rows: list[dict], name: str | None = None) -> None:
    """Each row: `day` (date) and `cost` (USD, billed) plus any canonical column; the rest get defaults."""
    path = tmp_path / (name or f"daily{next(_counter)}.csv")
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER)
        w.writeheader()
        for r in rows:
            r = dict(r)
            day, cost = r.pop("day"), r.pop("cost")
            w.writerow({"ts": f"{day.isoformat()}T00:00:00", "granularity": "day", "provider": "openai",
                        "model": "gpt-4o-mini", "project": "p1", "team": "t1", "api_key": "key-1", "requests": 10,
                        "input_tokens": 1000, "cache_read_tokens": 0, "output_tokens": 100, "service_tier": "standard",
                        "cost_usd": f"{cost:.6f}", **r})
    results = ingest_paths(wh, [path])
    assert [r.status for r in results] == ["loaded"], results


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
