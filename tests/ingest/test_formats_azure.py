"""azure-cost-details on the bundled Northwind MCA (EUR billing) and EA (USD) exports: meters split into model and
token class, 1K/1M units, US dates, currency converted with the file's own rate, rejects that name the column."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile
from warehouse import prices

DATA = Path(__file__).resolve().parents[2] / "sample_data"
MCA = DATA / "azure_cost_details_mca_2026-07.csv"
EA = DATA / "azure_usage_details_ea_2026-07-01_2026-07-10.csv"
COLS = ("ts, granularity, provider, model, model_raw, account, project, team, workload, operation, service_tier, "
        "requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _row(wh, where: str) -> dict:
    frame = wh.sql(f"select {COLS} from usage_raw where {where}")
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def _rewrite(src: Path, dst: Path, edit) -> Path:
    rows = edit(list(csv.reader(io.StringIO(src.read_text()))))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue())
    return dst


def _drop(*names):
    def edit(rows):
        gone = {rows[0].index(n) for n in names}
        return [[c for i, c in enumerate(r) if i not in gone] for r in rows]
    return edit


def test_mca_eur_file_loads_ai_meters_in_usd(wh):
    r = _one(wh, MCA)
    # 31 days x 7 meters; the storage row is not AI
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("azure-cost-details", "loaded", 217, 0)
    # 07/01/2026, gpt-4o-0806-Inp-glbl Tokens: 837.005 x 1K, EUR 1.9251115 = costInUsd 2.0925125
    assert _row(wh, "model_raw = 'gpt-4o-0806-Inp-glbl Tokens' and ts = '2026-07-01'") == {
        "ts": datetime(2026, 7, 1), "granularity": "day", "provider": "azure-openai", "model": "gpt-4o",
        "model_raw": "gpt-4o-0806-Inp-glbl Tokens", "account": "Northwind-Prod", "project": "nw-assist",
        "team": "customer-support", "workload": "chat", "operation": "chat", "service_tier": "standard",
        "requests": 0, "input_tokens": 837_005, "cache_read_tokens": 0, "cache_write_tokens": 0,
        "output_tokens": 0, "cost_usd": Decimal("2.0925125"),
    }
    lo, hi = wh.sql("select min(ts), max(ts) from usage_raw").row(0)
    assert (lo, hi) == (datetime(2026, 7, 1), datetime(2026, 7, 31))


def test_mca_cached_meter_and_per_million_meter(wh):
    _one(wh, MCA)
    cached = _row(wh, "model_raw = 'gpt 4o 0806 cached Inp glbl' and ts = '2026-07-01'")
    assert (cached["model"], cached["input_tokens"], cached["cache_read_tokens"], cached["cost_usd"]) == \
        ("gpt-4o", 0, 1_039_710, Decimal("1.2996375"))
    gpt5 = wh.sql("select model, sum(input_tokens) i, sum(output_tokens) o from usage_raw "
                  "where model_raw like 'GPT 5%' group by model").rows()
    # quantities in 1M: every value a whole number of tokens
    [(model, i, o)] = gpt5
    assert model == "gpt-5" and i > 31_000_000 and o > 0


def test_ea_usd_file_with_bare_tags_and_batch_meters(wh):
    r = _one(wh, EA)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("azure-cost-details", "loaded", 40, 0)
    # 07/01/2026 o4-mini-0416-Inp-regnl Tokens: 7.418 x 1M, USD 8.975780; tags `"team": "data-science", ...`
    assert _row(wh, "model_raw = 'o4-mini-0416-Inp-regnl Tokens' and ts = '2026-07-01'") == {
        "ts": datetime(2026, 7, 1), "granularity": "day", "provider": "azure-openai", "model": "o4-mini",
        "model_raw": "o4-mini-0416-Inp-regnl Tokens", "account": "Northwind-Research", "project": "nw-lab",
        "team": "data-science", "workload": "extraction", "operation": "chat", "service_tier": "standard",
        "requests": 0, "input_tokens": 7_418_000, "cache_read_tokens": 0, "cache_write_tokens": 0,
        "output_tokens": 0, "cost_usd": Decimal("8.975780"),
    }
    assert wh.sql("select distinct service_tier from usage_raw where model = 'gpt-4.1'").item() == "batch"


def test_meter_models_are_in_the_catalog(wh):
    ingest_paths(wh, [MCA, EA])
    names = wh.sql("select distinct model from usage_raw order by 1").to_series().to_list()
    assert names == ["gpt-4.1", "gpt-4o", "gpt-4o-mini", "gpt-5", "o4-mini"]
    assert all(prices.resolve("azure-openai", n)[1] == n for n in names)


def test_only_the_exchange_rate_converts(wh, tmp_path):
    path = _rewrite(MCA, tmp_path / "rate_only.csv", _drop("costInUsd", "costInPricingCurrency"))
    assert _one(wh, path).rows_loaded == 217
    # EUR 1.9251115 / 0.92 = USD 2.0925125
    got = _row(wh, "model_raw = 'gpt-4o-0806-Inp-glbl Tokens' and ts = '2026-07-01'")
    assert got["cost_usd"] == Decimal("2.0925125")


def test_foreign_currency_without_a_rate_rejects_the_file_naming_the_column(wh, tmp_path):
    path = _rewrite(MCA, tmp_path / "no_rate.csv",
                    _drop("costInUsd", "costInPricingCurrency", "exchangeRatePricingToBilling"))
    r = _one(wh, path)
    assert r.status == "rejected" and "billingCurrency is EUR" in r.error
    assert wh.sql("select count(*) from usage_raw").item() == 0


def test_iso_dates_read_too(wh, tmp_path):
    def edit(rows):
        i = rows[0].index("Date")
        for r in rows[1:]:
            m, d, y = r[i].split("/")
            r[i] = f"{y}-{m}-{d}"
        return rows
    assert _one(wh, _rewrite(EA, tmp_path / "iso.csv", edit)).rows_loaded == 40
    assert wh.sql("select min(ts) from usage_raw").item() == datetime(2026, 7, 1)


def test_missing_required_column_is_named(wh, tmp_path):
    r = _one(wh, _rewrite(EA, tmp_path / "ea.csv", _drop("UnitOfMeasure")))
    assert (r.format, r.status) == ("azure-cost-details", "rejected")
    assert r.error.endswith("missing required column(s) unitOfMeasure for format azure-cost-details")


def test_bad_quantity_is_set_aside_naming_row_and_column(wh, tmp_path):
    def edit(rows):
        rows[2][rows[0].index("Quantity")] = "n/a"
        return rows
    r = _one(wh, _rewrite(EA, tmp_path / "ea.csv", edit))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 39, 1)
    assert wh.sql("select row_number, column_name, value from ingest_rejects").row(0) == (2, "quantity", "n/a")


@pytest.mark.parametrize("path", [MCA, EA])
def test_detected_and_loading_twice_adds_nothing(wh, path, tmp_path):
    assert formats.detect(read.sample(SourceFile(path, path.name, "none"))).id == "azure-cost-details"
    first = _one(wh, path)
    copy = tmp_path / "again.csv"
    copy.write_bytes(path.read_bytes() + b"\n")
    again = _one(wh, copy)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)
