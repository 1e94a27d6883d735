"""focus (FinOps FOCUS 1.0-1.3) on the bundled reseller file (Amazon Bedrock via Contoso Cloud, October 2026):
AI rows only, SkuMeter to model/token class, consumed quantities, tags, currency, FOCUS 1.3 and Parquet."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile
from warehouse import prices

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "focus_reseller_bedrock_2026-10.csv"
COLS = ("ts, granularity, provider, model, model_raw, account, project, team, workload, operation, service_tier, "
        "requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _row(wh, where: str) -> dict:
    frame = wh.sql(f"select {COLS} from usage_raw where {where}")
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def _rewrite(dst: Path, edit) -> Path:
    rows = edit(list(csv.reader(io.StringIO(SAMPLE.read_text()))))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue())
    return dst


def test_ai_rows_load_with_token_classes_and_tags(wh):
    r = _one(wh, SAMPLE)
    # 31 days x 5 SKUs + one credit; the EC2 (Compute) row and the Tax row are not read
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("focus", "loaded", 156, 0)
    # 2026-10-01 claude-sonnet-4-5/cache_read: ConsumedQuantity 6,697,730 Tokens, BilledCost 2.009319
    assert _row(wh, "model_raw = 'claude-sonnet-4-5/cache_read' and ts = '2026-10-01'") == {
        "ts": datetime(2026, 10, 1), "granularity": "day", "provider": "aws-bedrock", "model": "claude-sonnet-4-5",
        "model_raw": "claude-sonnet-4-5/cache_read", "account": "RSL-NW-2291", "project": "nw-sales-prod",
        "team": "sales", "workload": "chat", "operation": "chat", "service_tier": "standard", "requests": 0,
        "input_tokens": 0, "cache_read_tokens": 6_697_730, "cache_write_tokens": 0, "output_tokens": 0,
        "cost_usd": Decimal("2.009319"),
    }
    credit = _row(wh, "cost_usd < 0")
    assert (credit["model"], credit["input_tokens"], credit["cost_usd"]) == ("credit", 0, Decimal("-40"))
    lo, hi = wh.sql("select min(ts), max(ts) from usage_raw").row(0)
    assert (lo, hi) == (datetime(2026, 10, 1), datetime(2026, 10, 31))


def test_models_are_in_the_catalog(wh):
    _one(wh, SAMPLE)
    names = wh.sql("select distinct model from usage_raw where model <> 'credit' order by 1").to_series().to_list()
    assert names == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert all(prices.resolve("aws-bedrock", n) != (None, None) for n in names)


def test_pricing_quantity_in_thousands_when_consumed_is_absent(wh, tmp_path):
    def edit(rows):
        gone = {rows[0].index("ConsumedQuantity"), rows[0].index("ConsumedUnit")}
        return [[c for i, c in enumerate(r) if i not in gone] for r in rows]
    _one(wh, _rewrite(tmp_path / "pricing.csv", edit))
    # PricingQuantity 6697.73 x "1000 Tokens"
    assert _row(wh, "model_raw = 'claude-sonnet-4-5/cache_read' and ts = '2026-10-01'")["cache_read_tokens"] == \
        6_697_730


def test_focus_1_3_service_provider_name_and_parquet(wh, tmp_path):
    def edit(rows):
        rows[0][rows[0].index("ProviderName")] = "ServiceProviderName"
        return rows
    csv_path = _rewrite(tmp_path / "focus13.csv", edit)
    parquet = tmp_path / "focus13.parquet"
    duckdb.execute(f"copy (select * from read_csv('{csv_path}', all_varchar = true)) to '{parquet}' (format parquet)")
    assert formats.detect(read.sample(SourceFile(parquet, parquet.name, "none"))).id == "focus"
    r = _one(wh, parquet)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("focus", 156, 0)
    assert wh.sql("select distinct provider from usage_raw").item() == "aws-bedrock"


def test_foreign_currency_uses_the_exchange_rate_or_rejects_the_file(wh, tmp_path):
    def eur(with_rate: bool):
        def edit(rows):
            i = rows[0].index("BillingCurrency")
            rows[0].append("x_BillingExchangeRate")
            for r in rows[1:]:
                r[i] = "EUR"
                r.append("0.9" if with_rate else "")
            return rows
        return edit
    r = _one(wh, _rewrite(tmp_path / "norate.csv", eur(False)))
    assert r.status == "rejected" and "BillingCurrency is EUR" in r.error
    _one(wh, _rewrite(tmp_path / "rate.csv", eur(True)))
    # 2.009319 EUR / 0.9
    assert _row(wh, "model_raw = 'claude-sonnet-4-5/cache_read' and ts = '2026-10-01'")["cost_usd"] == \
        Decimal("2.232576666667")


def test_missing_required_column_is_named(wh, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(SAMPLE.read_text().replace("ChargePeriodEnd", "ChargePeriodStop", 1))
    r = _one(wh, path)
    assert (r.format, r.status) == ("focus", "rejected")
    assert r.error.endswith("missing required column(s) ChargePeriodEnd for format focus")


def test_bad_quantity_is_set_aside_naming_row_and_column(wh, tmp_path):
    def edit(rows):
        rows[4][rows[0].index("ConsumedQuantity")] = "1.2.3"
        return rows
    r = _one(wh, _rewrite(tmp_path / "bad.csv", edit))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 155, 1)
    assert wh.sql("select row_number, column_name, value from ingest_rejects").row(0) == \
        (4, "ConsumedQuantity", "1.2.3")


def test_detected_and_loading_twice_adds_nothing(wh, tmp_path):
    assert formats.detect(read.sample(SourceFile(SAMPLE, SAMPLE.name, "none"))).id == "focus"
    first = _one(wh, SAMPLE)
    copy = tmp_path / "again.csv"
    copy.write_bytes(SAMPLE.read_bytes() + b"\n")
    again = _one(wh, copy)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)
