"""Anthropic: usage_report and cost_report JSON pages, Claude Console usage and cost CSV exports (every header
version): hand-checked canonical rows, cents -> dollars, display names -> catalog ids, detection, idempotent
loads, rejects naming the file's column."""

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
USAGE_API = SAMPLE / "anthropic_usage_report_2026-06-01_2026-06-14.json"
COST_API = SAMPLE / "anthropic_cost_report_2026-06-15_2026-06-30.json"
USAGE_CSV_NEW = SAMPLE / "anthropic_console_usage_2026-07-01_2026-07-15.csv"
USAGE_CSV_OLD = SAMPLE / "anthropic_console_usage_2026-07-16_2026-07-31.csv"
COST_2024 = SAMPLE / "claude_api_cost_2026_08a_header2024.csv"
COST_2025 = SAMPLE / "claude_api_cost_2026_08b_header2025.csv"
COST_2026 = SAMPLE / "claude_api_cost_2026_08c_header2026.csv"

COLS = ("ts, granularity, provider, model, model_raw, project, api_key, operation, service_tier, requests, "
        "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _raw(wh, where: str) -> list[dict]:
    frame = wh.sql(f"select {COLS} from usage_raw where {where} order by model, service_tier, cost_usd")
    return list(frame.iter_rows(named=True))


def _rejects(wh) -> list[tuple]:
    return wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()


# ---------------------------------------------------------------- anthropic-usage-api


def test_usage_api_first_bucket_token_classes(wh):
    r = _one(wh, USAGE_API)
    # 14 daily buckets; Sundays 06-07 and 06-14 are empty; 06-01 has 4 results, the 11 others 2
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("anthropic-usage-api", "loaded", 26, 0)
    day = datetime(2026, 6, 1)
    got = _raw(wh, "ts = timestamp '2026-06-01'")
    assert got == [
        {"ts": day, "granularity": "day", "provider": "anthropic", "model": "claude-haiku-4-5-20251001",
         "model_raw": "claude-haiku-4-5-20251001", "project": "wrkspc_01NwSupport3Kd",
         "api_key": "apikey_01NwSupDesk4m", "operation": "chat", "service_tier": "batch", "requests": 0,
         "input_tokens": 640_000, "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 96_000,
         "cost_usd": None},
        {"ts": day, "granularity": "day", "provider": "anthropic", "model": "claude-haiku-4-5-20251001",
         "model_raw": "claude-haiku-4-5-20251001", "project": "wrkspc_01NwSupport3Kd",
         "api_key": "apikey_01NwSupDesk4m", "operation": "chat", "service_tier": "standard", "requests": 0,
         "input_tokens": 1_204_500, "cache_read_tokens": 2_400_000, "cache_write_tokens": 0,
         "output_tokens": 388_100, "cost_usd": None},
        # priority_on_demand -> priority; default workspace and Workbench key are null
        {"ts": day, "granularity": "day", "provider": "anthropic", "model": "claude-opus-4-1-20250805",
         "model_raw": "claude-opus-4-1-20250805", "project": None, "api_key": None, "operation": "chat",
         "service_tier": "priority", "requests": 0, "input_tokens": 12_000, "cache_read_tokens": 0,
         "cache_write_tokens": 2_048, "output_tokens": 9_100, "cost_usd": None},
        # uncached_input_tokens as is (already excludes cache); 5m 40960 + 1h 8192 cache writes
        {"ts": day, "granularity": "day", "provider": "anthropic", "model": "claude-sonnet-4-5-20250929",
         "model_raw": "claude-sonnet-4-5-20250929", "project": "wrkspc_01NwFinance7Qh",
         "api_key": "apikey_01NwFinBot9x", "operation": "chat", "service_tier": "standard", "requests": 0,
         "input_tokens": 182_340, "cache_read_tokens": 910_000, "cache_write_tokens": 40_960 + 8_192,
         "output_tokens": 61_250, "cost_usd": None},
    ]
    assert wh.sql("select count(*) as n from usage_raw where cast(ts as date) in "
                  "(date '2026-06-07', date '2026-06-14')")["n"][0] == 0


def test_usage_api_hourly_rfc3339_offsets_and_bad_value(wh, tmp_path):
    page = {"data": [
        {"starting_at": "2026-06-20T10:00:00+02:00", "ending_at": "2026-06-20T11:00:00+02:00", "results": [
            {"uncached_input_tokens": 10, "cache_read_input_tokens": 0, "output_tokens": 5,
             "cache_creation": {"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokens": 2},
             "model": "claude-haiku-4-5", "service_tier": "flex_discount"},
            {"uncached_input_tokens": "ten", "output_tokens": 5, "model": "claude-haiku-4-5"}]}],
        "has_more": False, "next_page": None}
    path = tmp_path / "hourly.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("anthropic-usage-api", 1, 1)
    assert wh.sql("select ts, granularity, service_tier, input_tokens, cache_write_tokens from usage_raw").rows() \
        == [(datetime(2026, 6, 20, 8), "hour", "flex", 10, 3)]
    assert _rejects(wh) == [(2, "uncached_input_tokens", "ten", "not a number")]


def test_usage_api_missing_field_is_named(wh, tmp_path):
    page = json.loads(USAGE_API.read_text())
    for bucket in page["data"]:
        for result in bucket["results"]:
            del result["uncached_input_tokens"]
    path = tmp_path / "no_uncached.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.format, r.status) == ("anthropic-usage-api", "rejected")
    assert r.error.endswith("missing required column(s) uncached_input_tokens for format anthropic-usage-api")


# ---------------------------------------------------------------- anthropic-cost-api


def test_cost_api_amounts_are_cents_strings(wh):
    r = _one(wh, COST_API)
    # 16 days 06-15..06-30; Sundays 06-21 and 06-28 empty; 06-15 has 7 results, 13 other days 3
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("anthropic-cost-api", "loaded", 46, 0)
    got = wh.sql("select model, model_raw, project, operation, service_tier, cost_usd from usage_raw "
                 "where ts = timestamp '2026-06-15' order by cost_usd").rows()
    assert got == [
        ("unknown", "unknown", None, "other", "standard", Decimal("0.100000")),   # "10" cents, web search
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "wrkspc_01NwFinance7Qh", "chat", "standard",
         Decimal("0.153600")),                                          # "15.36" cents
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001", "wrkspc_01NwSupport3Kd", "chat", "batch",
         Decimal("0.320000")),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "wrkspc_01NwFinance7Qh", "chat", "standard",
         Decimal("0.412500")),                                          # "41.25"
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "wrkspc_01NwFinance7Qh", "chat", "standard",
         Decimal("0.918750")),                                          # "91.875"
        # model null: parsed from the description's display name
        ("claude-haiku-4-5", "Claude Haiku 4.5", "wrkspc_01NwSupport3Kd", "chat", "standard", Decimal("1.204500")),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "wrkspc_01NwFinance7Qh", "chat", "standard",
         Decimal("1.2378912")),                                          # "123.78912" -> $1.2378912
    ]
    assert wh.sql("select sum(requests + input_tokens + output_tokens) as n from usage_raw")["n"][0] == 0


def test_cost_api_bad_amount_is_set_aside(wh, tmp_path):
    page = json.loads(COST_API.read_text())
    page["data"][0]["results"][1]["amount"] = "41,25"
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_rejected) == (45, 1)
    assert _rejects(wh) == [(2, "amount", "41,25", "not an amount")]


# ---------------------------------------------------------------- console CSVs


def test_console_usage_new_header_with_bom_and_split_cache_writes(wh):
    r = _one(wh, USAGE_CSV_NEW)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("anthropic-console-usage-csv", "loaded", 23, 0)
    got = _raw(wh, "ts = timestamp '2026-07-01'")
    assert [(g["model"], g["project"], g["api_key"], g["service_tier"], g["input_tokens"], g["cache_read_tokens"],
             g["cache_write_tokens"], g["output_tokens"], g["requests"], g["cost_usd"]) for g in got] == [
        ("claude-haiku-4-5-20251001", "Support", "support-desk", "batch", 880_000, 0, 0, 120_000, 0, None),
        ("claude-sonnet-4-5-20250929", "Finance", "finance-copilot", "standard", 46_981, 310_000, 15_969 + 2_048,
         16_932, 0, None),
    ]


def test_console_usage_old_header_display_name_and_blank_workspace(wh):
    r = _one(wh, USAGE_CSV_OLD)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("anthropic-console-usage-csv", 22, 0)
    got = _raw(wh, "ts = timestamp '2026-07-16'")
    assert [(g["model"], g["model_raw"], g["project"], g["input_tokens"], g["cache_write_tokens"]) for g in got] == [
        ("claude-opus-4-1", "Claude Opus 4.1", "Default", 21_000, 0),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "Finance", 50_000, 12_000),
    ]


@pytest.mark.parametrize("path, rows, total", [
    (COST_2024, 5, Decimal("2.11")), (COST_2025, 5, Decimal("3.72")), (COST_2026, 5, Decimal("3.47"))])
def test_console_cost_every_header_version(wh, path, rows, total):
    r = _one(wh, path)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("anthropic-console-cost-csv", "loaded", rows, 0)
    assert wh.sql("select sum(cost_usd) as s from usage_raw")["s"][0] == total
    assert wh.sql("select sum(requests + input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) "
                  "as n from usage_raw")["n"][0] == 0


def test_console_cost_display_names_map_to_catalog_ids(wh):
    for path in (COST_2024, COST_2025, COST_2026):
        _one(wh, path)
    pairs = wh.sql("select distinct model_raw, model from usage_raw order by model").rows()
    assert pairs == [("Claude 3.5 Sonnet 2024-10-22", "claude-3-5-sonnet-20241022"),
                     ("Claude Haiku 4.5", "claude-haiku-4-5"), ("Claude Opus 4.1", "claude-opus-4-1"),
                     ("Claude Sonnet 4.5", "claude-sonnet-4-5")]
    for _, model in pairs:
        assert prices.resolve("anthropic", model)[1] is not None, model
    # the newest header carries the key id; web search is not chat; the usage_type "priority" is the tier
    assert wh.sql("select api_key, service_tier from usage_raw where ts = timestamp '2026-08-23'").rows() == [
        ("apikey_01NwFinBot9x", "priority")]
    assert wh.sql("select operation, cost_usd from usage_raw where operation <> 'chat'").rows() == [
        ("other", Decimal("0.200000"))]


def test_console_cost_missing_column_is_named(wh, tmp_path):
    lines = COST_2024.read_text().splitlines()
    lines[0] = lines[0].replace(",token_type", ",kind")
    path = tmp_path / "claude_api_cost.csv"
    path.write_text("\n".join(lines) + "\n")
    r = _one(wh, path)
    assert (r.format, r.status) == ("anthropic-console-cost-csv", "rejected")
    assert r.error.endswith("missing required column(s) token_type for format anthropic-console-cost-csv")


def test_console_usage_missing_column_and_bad_cell(wh, tmp_path):
    lines = USAGE_CSV_OLD.read_text().splitlines()
    bad = tmp_path / "usage_bad.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace(",12000,", ",12k,"), *lines[2:]]) + "\n")
    r = _one(wh, bad)
    assert (r.rows_loaded, r.rows_rejected) == (21, 1)
    assert _rejects(wh) == [(1, "usage_input_tokens_cache_write_5m", "12k", "not a number")]
    missing = tmp_path / "usage_missing.csv"
    missing.write_text("\n".join([lines[0].replace("usage_output_tokens", "output"), *lines[1:]]) + "\n")
    r = _one(wh, missing)
    assert (r.format, r.status) == ("anthropic-console-usage-csv", "rejected")
    assert r.error.endswith("missing required column(s) usage_output_tokens for format anthropic-console-usage-csv")


# ---------------------------------------------------------------- all four


@pytest.mark.parametrize("path, fmt", [
    (USAGE_API, "anthropic-usage-api"), (COST_API, "anthropic-cost-api"),
    (USAGE_CSV_NEW, "anthropic-console-usage-csv"), (USAGE_CSV_OLD, "anthropic-console-usage-csv"),
    (COST_2024, "anthropic-console-cost-csv"), (COST_2025, "anthropic-console-cost-csv"),
    (COST_2026, "anthropic-console-cost-csv")])
def test_detection_picks_each_sample_format(path, fmt):
    assert formats.detect(read.sample(SourceFile(path, str(path), "none"))).id == fmt


@pytest.mark.parametrize("path, rows", [(USAGE_API, 26), (COST_API, 46), (USAGE_CSV_NEW, 23), (COST_2026, 5)])
def test_loading_a_file_twice_adds_nothing(wh, path, rows):
    first, second = _one(wh, path), _one(wh, path)
    assert (first.status, first.rows_loaded) == ("loaded", rows)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("duplicate", 0, rows)
    assert wh.sql("select count(*) as n from usage")["n"][0] == rows
