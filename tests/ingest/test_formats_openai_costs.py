"""openai-costs-api (Costs API JSON pages) and openai-cost-csv (dashboard cost export): money-only rows with the
line item parsed into model / operation / tier, detection, idempotent loads, rejects naming the file's column."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile
from warehouse import prices

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
API = SAMPLE / "openai_costs_api_2026-04.json"
CSV = SAMPLE / "openai_cost_2026-05-01_2026-05-05.csv"


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _rows(wh, day: str) -> list[tuple]:
    return wh.sql(
        "select model_raw, model, project, operation, service_tier, cost_usd from usage_raw "
        f"where ts = timestamp '{day}' order by model_raw, cost_usd").rows()


def _rejects(wh) -> list[tuple]:
    return wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()


# ---------------------------------------------------------------- openai-costs-api


def test_api_sample_loads_sixteen_line_items_in_dollars(wh):
    r = _one(wh, API)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openai-costs-api", "loaded", 16, 0)
    # hand sum of amount.value over every result; dollars, not cents
    assert wh.sql("select sum(cost_usd) as s from usage")["s"][0] == Decimal("8.198342890123")
    # money-only rows: no request and no token is counted
    assert wh.sql("select sum(requests) + sum(input_tokens) + sum(cache_read_tokens) + sum(cache_write_tokens) "
                  "+ sum(output_tokens) + sum(reasoning_tokens) as n from usage")["n"][0] == 0
    # 2026-04-09 is an empty bucket; buckets are whole UTC days
    days = wh.sql("select distinct cast(ts as date) as d from usage order by d")["d"].to_list()
    assert [d.day for d in days] == [6, 7, 8, 10]
    assert wh.sql("select distinct granularity, provider from usage").rows() == [("day", "openai")]


def test_api_line_items_are_split_into_model_operation_and_tier(wh):
    _one(wh, API)
    assert _rows(wh, "2026-04-06") == [
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "proj_NwFinAssist01", "chat", "standard", Decimal("0.014400")),
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "proj_NwFinAssist01", "chat", "standard", Decimal("0.895875")),
        # 1.2345678901234 rounded to 6 places
        ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "proj_NwFinAssist01", "chat", "standard", Decimal("1.234567890123")),
        # "…, Input": the class is case-insensitive
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", "proj_NwSupportBot02", "chat", "standard",
         Decimal("0.310500")),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", "proj_NwSupportBot02", "chat", "standard",
         Decimal("0.481200")),
        # a tool line: no model, the line item kept as model_raw so it stays visible
        ("web search tool calls", "unknown", "proj_NwResearch03", "other", "standard", Decimal("0.250000")),
    ]
    assert _rows(wh, "2026-04-07") == [
        ("gpt-4.1-2025-04-14", "gpt-4.1-2025-04-14", "proj_NwResearch03", "chat", "priority", Decimal("2.400000")),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", "proj_NwSupportBot02", "chat", "batch",
         Decimal("0.180000")),
        ("gpt-5-nano", "gpt-5-nano", "proj_NwResearch03", "chat", "standard", Decimal("0.033700")),
        ("text-embedding-3-small", "text-embedding-3-small", "proj_NwResearch03", "embeddings", "standard",
         Decimal("0.040200")),
        # amount.value given as a string
        ("whisper-1", "whisper-1", "proj_NwSupportBot02", "audio", "standard", Decimal("0.060000")),
    ]


def test_api_models_resolve_in_the_price_catalog(wh):
    _one(wh, API)
    models = wh.sql("select distinct model from usage_raw where model <> 'unknown' order by model")["model"]
    for model in models:
        assert prices.resolve("openai", model) != (None, None), model
    # the usage view shows the catalog id of a dated snapshot
    assert "gpt-4o" in wh.sql("select distinct model from usage")["model"].to_list()


def test_api_non_usd_amount_is_set_aside_naming_amount_value(wh, tmp_path):
    page = json.loads(API.read_text())
    page["data"][0]["results"][2]["amount"] = {"value": 1.5, "currency": "eur"}   # result 3 in file order
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 15, 1)
    assert _rejects(wh) == [(3, "amount.value", "1.5 eur", "not an amount")]


def test_api_missing_amount_is_named(wh, tmp_path):
    page = json.loads(API.read_text())
    for bucket in page["data"]:
        for result in bucket["results"]:
            del result["amount"]
    path = tmp_path / "no_amount.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.format, r.status) == ("openai-costs-api", "rejected")
    assert r.error.endswith("missing required column(s) amount for format openai-costs-api")


# ---------------------------------------------------------------- openai-cost-csv


def test_csv_long_decimals_blank_buckets_and_no_email(wh):
    r = _one(wh, CSV)
    # 10 data lines: 2 blank buckets (05-03, 05-05) skipped, not rejected
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openai-cost-csv", "loaded", 8, 0)
    assert wh.sql("select sum(cost_usd) as s from usage")["s"][0] == Decimal("3.703962")
    got = wh.sql("select ts, granularity, model_raw, account, project, api_key, user_id, operation, service_tier, "
                 "requests, input_tokens, output_tokens, cost_usd from usage_raw order by ts, cost_usd").rows()
    assert got[0] == (datetime(2026, 5, 1), "day", "gpt-4o-2024-08-06", "org-NwAnalytics7", "proj_NwFinAssist01",
                      "key_nwFin9aQ2", "user-NwAbe01", "chat", "standard", 0, 0, 0, Decimal("0.014400"))
    # "0.003400000000000000000000000000000000" (36 decimals) read exactly
    assert (got[4][2], got[4][-1]) == ("gpt-4o-mini-2024-07-18", Decimal("0.003400"))
    assert ("web search tool calls", "other") in {(g[2], g[7]) for g in got}
    # the export's e-mail addresses and names are never stored
    stored = wh.sql("select * replace (cast(labels as varchar) as labels) from usage_raw").write_csv()
    assert "@" not in stored and "Finance Assistant" not in stored and "Northwind Analytics" not in stored


def test_csv_and_api_rows_of_the_same_bucket_load_once(wh, tmp_path):
    _one(wh, CSV)
    # the Costs API page for 2026-05-01, grouped the same way as the export row
    page = {"object": "page", "has_more": False, "data": [{
        "object": "bucket", "start_time": 1777593600, "end_time": 1777680000, "results": [
            {"object": "organization.costs.result", "amount": {"value": 0.895874, "currency": "usd"},
             "line_item": "gpt-4o-2024-08-06, input", "project_id": "proj_NwFinAssist01",
             "api_key_id": "key_nwFin9aQ2", "user_id": "user-NwAbe01"}]}]}
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(page))
    day_spend = "select sum(spend_usd) from usage_daily where day = date '2026-05-01'"
    before = wh.scalar(day_spend)
    r = _one(wh, path)
    # the API page names no organisation (the CSV does), so it is another scope and loads; the day's spend still
    # counts one source (source_choice), not both
    assert (r.format, r.rows_loaded) == ("openai-costs-api", 1)
    assert wh.scalar(day_spend) == before


def test_csv_bad_amount_is_set_aside_naming_row_and_column(wh, tmp_path):
    lines = CSV.read_text().splitlines()
    lines[3] = lines[3].replace("1.180000000000000000000000000000000000", "1.18 USD")   # data row 3
    path = tmp_path / "cost_2026-05-01_2026-05-05.csv"
    path.write_text("\n".join(lines) + "\n")
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 7, 1)
    assert [(row, col, reason) for row, col, _, reason in _rejects(wh)] == [(3, "amount_value", "not an amount")]


def test_csv_missing_required_column_is_named(wh, tmp_path):
    rows = [line.split(",") for line in CSV.read_text().splitlines()]
    drop = rows[0].index("start_time")
    path = tmp_path / "cost_no_start.csv"
    path.write_text("\n".join(",".join(c for i, c in enumerate(r) if i != drop) for r in rows[:1]) + "\n"
                    + "\n".join(CSV.read_text().splitlines()[1:]) + "\n")
    r = _one(wh, path)
    assert (r.format, r.status) == ("openai-cost-csv", "rejected")
    assert r.error.endswith("missing required column(s) start_time for format openai-cost-csv")


# ---------------------------------------------------------------- both


@pytest.mark.parametrize("path, fmt", [(API, "openai-costs-api"), (CSV, "openai-cost-csv")])
def test_detection_picks_each_sample_format(path, fmt):
    assert formats.detect(read.sample(SourceFile(path, str(path), "none"))).id == fmt


@pytest.mark.parametrize("path, rows", [(API, 16), (CSV, 8)])
def test_loading_a_file_twice_adds_nothing(wh, path, rows):
    first, second = _one(wh, path), _one(wh, path)
    assert (first.status, first.rows_loaded) == ("loaded", rows)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("duplicate", 0, rows)
    assert wh.sql("select count(*) as n from usage")["n"][0] == rows
