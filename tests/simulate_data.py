"""Tiny hand-made ledgers for the simulator's known-answer tests (canonical CSV, loaded through ingest)."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest import ingest_paths

HEADER = ["ts", "granularity", "provider", "model", "project", "team", "workload", "requests", "input_tokens",
          "cache_read_tokens", "output_tokens", "cost_usd", "session_id"]


def load_rows(wh, tmp_path: Path, rows: list[dict], name: str = "usage.csv") -> None:
    path = tmp_path / name
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({"granularity": "request", "provider": "openai", "model": "gpt-4o", "project": "p1",
                        "team": "t1", "workload": "chat", "requests": 1, "cache_read_tokens": 0, "cost_usd": "",
                        **r})
    results = ingest_paths(wh, [path])
    assert [r.status for r in results] == ["loaded"], results


def ten_requests(wh, tmp_path: Path, **extra) -> None:
    """Request k (k = 1..10) on gpt-4o: 100k input and 10k output tokens, billed $0.001 × k, hour k."""
    load_rows(wh, tmp_path, [
        {"ts": f"2025-06-01T{k:02d}:00:00", "input_tokens": 100 * k, "output_tokens": 10 * k,
         "cost_usd": f"{0.001 * k:.3f}", **extra}
        for k in range(1, 11)
    ])
