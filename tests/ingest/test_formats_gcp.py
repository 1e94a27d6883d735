"""Google Cloud: the billing export flattened to CSV (`gcp-billing-export`) and the console cost table
(`gcp-cost-table`) on the bundled Northwind files: SKU text to model/token class, credits, currency, preamble and
footer rows, detection, idempotent loads, rejects that name the column."""

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
EXPORT = DATA / "gcp_billing_export_2026-08.csv"
TABLE = DATA / "gcp_cost_table_2026-09.csv"
COLS = ("ts, granularity, provider, model, model_raw, account, project, team, workload, operation, service_tier, "
        "requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd")


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


def test_export_input_row_with_credit_and_labels(wh):
    r = _one(wh, EXPORT)
    # 31 days x 6 AI SKUs + a caching-storage row (hours: money only); the Cloud Storage row is not AI
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("gcp-billing-export", "loaded", 187, 0)
    # 2026-08-01 Gemini 2.5 Flash Text Input: 3,528,325 tokens, cost 1.058498 + credit -0.529249
    assert _row(wh, "model_raw = 'Gemini 2.5 Flash Text Input - Predictions' and ts = '2026-08-01'") == {
        "ts": datetime(2026, 8, 1), "granularity": "day", "provider": "google-vertex", "model": "gemini-2.5-flash",
        "model_raw": "Gemini 2.5 Flash Text Input - Predictions", "account": "01A2B3-C4D5E6-F7A8B9",
        "project": "nw-insights", "team": "data-science", "workload": "extraction", "operation": "chat",
        "service_tier": "standard", "requests": 0, "input_tokens": 3_528_325, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0, "cost_usd": Decimal("0.529249"),
    }


def test_export_thinking_cached_and_storage_skus(wh):
    _one(wh, EXPORT)
    thinking = _row(wh, "model_raw like 'Gemini 2.5 Flash Thinking%' and ts = '2026-08-01'")
    assert (thinking["output_tokens"], thinking["reasoning_tokens"]) == (270_383, 270_383)
    cached = _row(wh, "model_raw like 'Generate content cached input%' and ts = '2026-08-01'")
    assert (cached["model"], cached["input_tokens"], cached["cache_read_tokens"], cached["team"]) == \
        ("gemini-2.5-pro", 0, cached["cache_read_tokens"], "engineering")
    assert cached["cache_read_tokens"] > 0
    storage = _row(wh, "model_raw like '%Caching Storage%'")
    assert (storage["input_tokens"], storage["cache_read_tokens"], storage["cost_usd"]) == (0, 0, Decimal("0.9"))
    # credits only on the first ten days of nw-insights
    assert wh.sql("select sum(cost_usd) from usage_raw where project = 'nw-copilot'").item() > 0


def test_export_underscored_headers_load_the_same(wh, tmp_path):
    def edit(rows):
        rows[0] = [h.replace(".", "_") for h in rows[0]]
        return rows
    path = _rewrite(EXPORT, tmp_path / "flat.csv", edit)
    assert formats.detect(read.sample(SourceFile(path, path.name, "none"))).id == "gcp-billing-export"
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_rejected) == (187, 0)
    assert _row(wh, "model_raw = 'Gemini 2.5 Flash Text Input - Predictions' and ts = '2026-08-01'")["team"] == \
        "data-science"


def test_export_local_currency_is_divided_by_the_conversion_rate(wh, tmp_path):
    def edit(rows):
        c, k = rows[0].index("currency"), rows[0].index("currency_conversion_rate")
        for r in rows[1:]:
            r[c], r[k] = "EUR", "0.8"
        return rows
    _one(wh, _rewrite(EXPORT, tmp_path / "eur.csv", edit))
    # (1.058498 - 0.529249) / 0.8
    got = _row(wh, "model_raw = 'Gemini 2.5 Flash Text Input - Predictions' and ts = '2026-08-01'")
    assert got["cost_usd"] == Decimal("0.66156125")


def test_export_local_currency_without_a_rate_rejects_the_file(wh, tmp_path):
    def edit(rows):
        c, k = rows[0].index("currency"), rows[0].index("currency_conversion_rate")
        return [[v for i, v in enumerate(r) if i != k] for r in
                [rows[0], *[[*r[:c], "JPY", *r[c + 1:]] for r in rows[1:]]]]
    r = _one(wh, _rewrite(EXPORT, tmp_path / "jpy.csv", edit))
    assert r.status == "rejected" and "currency is JPY" in r.error and "currency_conversion_rate" in r.error


def test_cost_table_skips_preamble_and_footers_and_reads_thousands(wh):
    r = _one(wh, TABLE)
    # 7 Vertex rows + 1 credit row; BigQuery, "Rounding error" and "Total" rows are not read
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("gcp-cost-table", "loaded", 8, 0)
    assert _row(wh, "model_raw = 'Gemini 2.5 Flash Text Input - Predictions'") == {
        "ts": datetime(2026, 9, 1), "granularity": "month", "provider": "google-vertex",
        "model": "gemini-2.5-flash", "model_raw": "Gemini 2.5 Flash Text Input - Predictions",
        "account": "01A2B3-C4D5E6-F7A8B9", "project": "nw-support", "team": None, "workload": None,
        "operation": "chat", "service_tier": "standard", "requests": 0, "input_tokens": 812_450_000,
        "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0,
        "cost_usd": Decimal("243.735"),
    }
    credit = _row(wh, "cost_usd < 0")
    assert (credit["input_tokens"], credit["cost_usd"]) == (0, Decimal("-25.125"))
    assert _row(wh, "model_raw like '%Batch%'")["service_tier"] == "batch"
    # the invoice's AI total: every Vertex row including the credit
    assert wh.sql("select sum(cost_usd) from usage_raw").item() == Decimal("1715.780")


def test_sku_models_are_in_the_catalog(wh):
    ingest_paths(wh, [EXPORT, TABLE])
    names = wh.sql("select distinct model from usage_raw order by 1").to_series().to_list()
    assert names == ["gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro"]
    assert all(prices.resolve("google-vertex", n)[1] == n for n in names)


def test_cost_table_in_another_currency_is_refused(wh, tmp_path):
    path = tmp_path / "eur.csv"
    path.write_text(TABLE.read_text().replace("Cost ($)", "Cost (€)"), encoding="utf-8")
    r = _one(wh, path)
    assert r.status == "rejected" and "Unrounded Cost (€)" in r.error


@pytest.mark.parametrize("path, fmt, column", [(EXPORT, "gcp-billing-export", "usage.unit"),
                                               (TABLE, "gcp-cost-table", "Usage unit")])
def test_missing_required_column_is_named(wh, tmp_path, path, fmt, column):
    text = path.read_text().replace(f",{column},", ",x_renamed,")
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    r = _one(wh, bad)
    assert (r.format, r.status) == (fmt, "rejected")
    assert r.error.endswith(f"missing required column(s) {column} for format {fmt}")


def test_bad_amount_is_set_aside_naming_row_and_column(wh, tmp_path):
    def edit(rows):
        rows[3][rows[0].index("usage.amount")] = "lots"
        return rows
    r = _one(wh, _rewrite(EXPORT, tmp_path / "bad.csv", edit))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 186, 1)
    assert wh.sql("select row_number, column_name, value from ingest_rejects").row(0) == (3, "usage.amount", "lots")


@pytest.mark.parametrize("path, fmt", [(EXPORT, "gcp-billing-export"), (TABLE, "gcp-cost-table")])
def test_detected_and_loading_twice_adds_nothing(wh, path, fmt, tmp_path):
    assert formats.detect(read.sample(SourceFile(path, path.name, "none"))).id == fmt
    first = _one(wh, path)
    copy = tmp_path / "again.csv"
    copy.write_bytes(path.read_bytes() + b"\n")
    again = _one(wh, copy)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)
