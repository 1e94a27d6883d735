"""Seeded builders of small, realistic test ledgers in the canonical input format (DESIGN.md).

`write_usage_csv` writes daily usage buckets for a handful of providers, models and teams with a weekly rhythm
and growth; OpenAI rows carry a billed cost 10% under list, the others leave `cost_usd` empty (priced from
the catalog), and one self-hosted model is unknown to the catalog (unpriced). Same seed, same file.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from ingest import ingest_paths
from warehouse import Warehouse

HEADER = ["ts", "granularity", "provider", "model", "project", "team", "requests", "input_tokens",
          "output_tokens", "cost_usd"]

# provider, model, project, team, requests per weekday, prompt tokens per request, output tokens per request,
# billed USD per 1M (input, output) or None when the source reports no cost
STREAMS = [
    ("openai", "gpt-4o", "assistant", "product", 5200, 1800, 420, (2.25, 9.0)),
    ("openai", "gpt-4o-mini", "ticket-triage", "support", 42000, 900, 120, (0.135, 0.54)),
    ("openai", "o3-mini", "forecasting", "finance-ops", 900, 2500, 1800, (0.99, 3.96)),
    ("anthropic", "claude-sonnet-4-5", "code-review", "engineering", 3100, 6000, 900, None),
    ("anthropic", "claude-3-5-haiku", "contract-extract", "legal", 7600, 3200, 260, None),
    ("openai", "text-embedding-3-small", "search-index", "data-science", 120000, 500, 0, (0.02, 0.0)),
    ("anthropic", "claude-sonnet-4-5", "sandbox", None, 400, 4000, 700, None),
    ("self-hosted", "acme-llama-ft-v2", "support-bot", "support", 8000, 1100, 200, None),
]


def write_usage_csv(path: Path, *, start: dt.date = dt.date(2025, 5, 1), end: dt.date = dt.date(2025, 9, 17),
                    seed: int = 7) -> Path:
    rng = random.Random(seed)
    days = (end - start).days + 1
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(days):
            day = start + dt.timedelta(days=i)
            weekly = 0.35 if day.weekday() >= 5 else 1.0
            growth = 1.0 + 0.6 * i / days
            for provider, model, project, team, reqs, tin, tout, billed in STREAMS:
                n = max(1, int(reqs * weekly * growth * rng.uniform(0.85, 1.15)))
                input_tokens = int(n * tin * rng.uniform(0.9, 1.1))
                output_tokens = int(n * tout * rng.uniform(0.9, 1.1))
                cost = ""
                if billed:
                    cost = f"{(input_tokens * billed[0] + output_tokens * billed[1]) / 1e6:.6f}"
                w.writerow([f"{day.isoformat()}T00:00:00", "day", provider, model, project, team or "", n,
                            input_tokens, output_tokens, cost])
    return path


def build_ledger(db_path: Path, files: list[Path]) -> Path:
    """Create the ledger at `db_path`, load `files` and close it again (so the app under test can own it)."""
    with Warehouse(db_path) as wh:
        results = ingest_paths(wh, files)
        bad = [r for r in results if r.status != "loaded" or r.rows_rejected]
        assert not bad, bad
    return db_path
