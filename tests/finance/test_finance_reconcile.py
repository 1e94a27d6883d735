"""Reconciliation known answers: each lever of the list price (cache, batch, negotiated discount) is named
with its hand-computed amount, an overcharge is flagged, an unpriced model is listed with its billed spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finance import reconcile as rc
from finance_data import load_daily
from warehouse import config

D1, D2 = dt.date(2026, 5, 4), dt.date(2026, 5, 5)
M = 1_000_000


@pytest.fixture
def ledger(wh, tmp_path):
    # catalog: gpt-4o-mini 0.15 / 0.60 (cache read 0.075); gpt-4o 2.50 / 10.00 per million tokens
    config.replace_overrides(wh, [config.PriceOverride(provider="openai", model="gpt-4o",
                                                      effective_from=D1, discount_pct=Decimal(20))])
    load_daily(wh, tmp_path, [
        # plain: 1M in + 1M out = 0.75, billed 0.75
        {"day": D1, "cost": 0.75, "model": "gpt-4o-mini", "input_tokens": M, "output_tokens": M},
        # cache: 1M cache-read tokens: naive 0.15, at cache price 0.075 -> saving 0.075; billed 0.075
        {"day": D1, "cost": 0.075, "model": "gpt-4o-mini", "input_tokens": 0, "cache_read_tokens": M,
         "output_tokens": 0, "api_key": "key-cache"},
        # batch: 1M in + 1M out at 50% -> 0.375 expected, saving 0.375; billed 0.375
        {"day": D1, "cost": 0.375, "model": "gpt-4o-mini", "input_tokens": M, "output_tokens": M,
         "service_tier": "batch"},
        # negotiated 20% off gpt-4o: 1M in + 1M out = 12.50 catalog, 10.00 expected; billed 10.00
        {"day": D1, "cost": 10.0, "model": "gpt-4o", "input_tokens": M, "output_tokens": M},
        # day 2: overcharge -- 0.75 expected, billed 1.00 -> residual 0.25 (33%) flagged
        {"day": D2, "cost": 1.0, "model": "gpt-4o-mini", "input_tokens": M, "output_tokens": M},
        # unpriced model billed 5.00
        {"day": D2, "cost": 5.0, "model": "acme-llm-9", "input_tokens": M, "output_tokens": M},
        # a 1% gap on day 2 gpt-4o: 10.00 expected, billed 10.10 -> residual 0.10 is 1% < 2%: not flagged
        {"day": D2, "cost": 10.10, "model": "gpt-4o", "input_tokens": M, "output_tokens": M},
    ])
    return wh


def test_levers_are_named_with_hand_computed_amounts(ledger):
    d = rc.detail(ledger)
    mini1 = d.filter((pl.col("day") == D1) & (pl.col("model") == "gpt-4o-mini")).row(0, named=True)
    assert mini1["naive_list_usd"] == pytest.approx(0.75 + 0.15 + 0.75)
    assert mini1["cache_saving_usd"] == pytest.approx(0.075)
    assert mini1["batch_saving_usd"] == pytest.approx(0.375)
    assert mini1["negotiated_saving_usd"] == pytest.approx(0)
    assert mini1["expected_usd"] == pytest.approx(0.75 + 0.075 + 0.375)
    assert mini1["residual_usd"] == pytest.approx(0) and not mini1["flagged"]
    big1 = d.filter((pl.col("day") == D1) & (pl.col("model") == "gpt-4o")).row(0, named=True)
    assert big1["naive_list_usd"] == pytest.approx(12.5)
    assert big1["negotiated_saving_usd"] == pytest.approx(2.5)
    assert big1["expected_usd"] == pytest.approx(10.0) and not big1["flagged"]
    # the waterfall closes on every row
    closes = d["naive_list_usd"] - d["cache_saving_usd"] - d["negotiated_saving_usd"] - d["batch_saving_usd"] \
        + d["tier_extra_usd"] - d["expected_usd"]
    assert closes.abs().max() < 1e-6


def test_residual_flags_and_unpriced(ledger):
    f = rc.flagged(ledger)
    assert f.select("day", "model").rows() == [(D2, "gpt-4o-mini")]
    assert f["residual_usd"][0] == pytest.approx(0.25) and f["residual_pct"][0] == pytest.approx(100 / 3)
    big2 = rc.detail(ledger).filter((pl.col("day") == D2) & (pl.col("model") == "gpt-4o")).row(0, named=True)
    assert big2["residual_usd"] == pytest.approx(0.10) and not big2["flagged"]
    # a tighter threshold flags it
    assert rc.flagged(ledger, pct=0.5).height == 2
    u = rc.unpriced(ledger)
    assert u.select("model").to_series().to_list() == ["acme-llm-9"]
    assert float(u["billed_usd"][0]) == pytest.approx(5.0)
    s = rc.summary(ledger)
    assert s["unpriced_billed_usd"] == pytest.approx(5.0)
    assert s["billed_usd"] == pytest.approx(0.75 + 0.075 + 0.375 + 10 + 1 + 10.10)
    assert s["flagged_rows"] == 1 and s["flagged_residual_usd"] == pytest.approx(0.25)
    p = rc.by_provider(ledger).row(0, named=True)
    assert p["provider"] == "openai" and p["residual_usd"] == pytest.approx(0.35)


def test_token_classes(ledger):
    t = rc.token_classes(ledger, D1, D1).filter(pl.col("model") == "gpt-4o")
    got = {r["token_class"]: (r["tokens"], float(r["list_usd"]), float(r["billed_usd"])) for r in t.iter_rows(named=True)}
    # 20% off 2.50 in and 10.00 out
    assert got == {"input": (M, pytest.approx(2.0), pytest.approx(2.0)),
                   "output": (M, pytest.approx(8.0), pytest.approx(8.0))}
    t2 = rc.token_classes(ledger, D2, D2).filter(pl.col("model") == "gpt-4o-mini")
    # billed 1.00 shared by list share: input 0.15 / 0.75 -> 0.20, output 0.80
    assert {r["token_class"]: float(r["billed_usd"]) for r in t2.iter_rows(named=True)} == {
        "input": pytest.approx(0.2), "output": pytest.approx(0.8)}


def test_runs_on_the_sample_ledger(sample_wh):
    s = rc.summary(sample_wh)
    assert s["billed_usd"] > 0
    assert rc.by_provider(sample_wh).height > 0
    assert rc.token_classes(sample_wh).height > 0
