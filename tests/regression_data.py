"""A seeded synthetic ledger for the regression detectors: per series, daily request-level buckets of a custom model
priced by an override (input $2, cache read $0.20, output $8 per 1M tokens), billed at list with 1% noise, with
regressions injected on chosen days: cache share falls, tokens per request jump, billed price moves.
Loaded as canonical CSV through ingest (granularity `day`)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest import ingest_paths
from warehouse import config

P_IN, P_CR, P_OUT = 2.0, 0.2, 8.0
HEADER = ["ts", "granularity", "provider", "model", "project", "team", "workload", "api_key", "requests",
          "input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens", "cost_usd"]


@dataclass
class Series:
    team: str
    model: str
    key: str
    requests: float            # mean requests per weekday
    prompt: float              # prompt tokens per request
    share: float               # cache-read share of prompt
    output: float              # output tokens per request
    reasoning: float = 0.0     # the reasoning part of output per request
    injected: dict = field(default_factory=dict)   # kind -> (day index, factor or new value)


def overrides(wh, tmp_path: Path, models: list[str]) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text("overrides:\n" + "".join(
        f"  - {{provider: acme, model: {m}, effective_from: 2025-01-01, input_mtok: {P_IN}, "
        f"cache_read_mtok: {P_CR}, output_mtok: {P_OUT}}}\n" for m in models))
    config.replace_overrides(wh, config.load_overrides_file(path))


def build(wh, tmp_path: Path, series: list[Series], start: dt.date, n_days: int, seed: int = 11,
          noise: float = 0.08) -> dict[str, float]:
    """Write and load the ledger. Regressions apply from their day index to the end. Returns the true dollars
    each injected series paid over what the same draws would have cost without its regression (by model)."""
    rng = np.random.default_rng(seed)
    truth: dict[str, float] = {}
    path = tmp_path / "regression_ledger.csv"
    overrides(wh, tmp_path, sorted({s.model for s in series}))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for s in series:
            t = np.arange(n_days)
            weekday = np.where(((start.weekday() + t) % 7) >= 5, 0.5, 1.0)
            req = np.maximum(1, np.round(s.requests * weekday * rng.lognormal(0, 0.15, n_days)))
            prompt = s.prompt * rng.lognormal(0, noise, n_days)
            share = np.clip(s.share + rng.normal(0, 0.03, n_days), 0, 1)
            out = s.output * rng.lognormal(0, noise, n_days)
            reasoning = s.reasoning * rng.lognormal(0, noise, n_days)
            price = 1 + rng.normal(0, 0.01, n_days)
            clean = (prompt, share, out, reasoning, price)
            for kind, (d, v) in s.injected.items():
                after = t >= d
                if kind == "cache":
                    share = np.where(after, np.clip(v + rng.normal(0, 0.03, n_days), 0, 1), share)
                elif kind == "prompt_tokens":
                    prompt = np.where(after, prompt * v, prompt)
                elif kind == "output_tokens":
                    extra = s.output * (v - 1)        # the model thinks longer: the rise is reasoning
                    out = np.where(after, out + extra, out)
                    reasoning = np.where(after, reasoning + extra, reasoning)
                elif kind == "price":
                    price = np.where(after, price * v, price)
            inp, cr, o, r, cost = _tokens(req, prompt, share, out, reasoning, price)
            truth[s.model] = float(cost.sum() - _tokens(req, *clean)[-1].sum())
            for i in range(n_days):
                day = start + dt.timedelta(days=i)
                w.writerow([f"{day.isoformat()}T00:00:00Z", "day", "acme", s.model, "p", s.team, "general", s.key,
                            int(req[i]), int(inp[i]), int(cr[i]), int(o[i]), int(r[i]), f"{cost[i]:.6f}"])
    results = ingest_paths(wh, [path])
    assert [r.status for r in results] == ["loaded"], results
    return truth


def _tokens(req, prompt, share, out, reasoning, price):
    p_tok = np.round(req * prompt)
    cr = np.round(p_tok * share)
    inp = p_tok - cr
    o = np.round(req * np.maximum(out, reasoning))
    r = np.round(req * reasoning)
    cost = (inp * P_IN + cr * P_CR + o * P_OUT) / 1e6 * price
    return inp, cr, o, r, cost
