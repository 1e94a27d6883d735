"""OpenRouter: daily activity CSV, per-generation CSV and /generation JSON: hand-checked canonical rows,
detection, idempotent loads, rejects naming the file's column."""

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
ACTIVITY = SAMPLE / "openrouter_activity_2026-09-01_2026-09-07.csv"
GENERATIONS = SAMPLE / "openrouter_generations_2026-09-12_2026-09-13.csv"
GENERATION = SAMPLE / "openrouter_generation_2026-09-18.jsonl"
COLS = ("ts, granularity, provider, model, project, api_key, user_id, requests, input_tokens, cache_read_tokens, "
        "output_tokens, reasoning_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _rows(wh) -> list[tuple]:
    return wh.sql(f"select {COLS} from usage_raw order by ts, model").rows()


def test_activity_daily_rows(wh):
    r = _one(wh, ACTIVITY)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openrouter-activity-csv", "loaded", 15, 0)
    got = [row for row in _rows(wh) if row[0] == datetime(2026, 9, 3)]
    assert got == [
        (datetime(2026, 9, 3), "day", "openrouter", "anthropic/claude-sonnet-4.5", None, None, None, 303, 903_000, 0,
         60_300, 0, Decimal("4.500000")),
        (datetime(2026, 9, 3), "day", "openrouter", "deepseek/deepseek-r1", None, None, None, 40, 120_000, 0, 95_000,
         61_000, Decimal("0.880000")),
        # BYOK Usage 0.05 is billed by the provider, not OpenRouter: not in cost_usd
        (datetime(2026, 9, 3), "day", "openrouter", "openai/gpt-4o-mini", None, None, None, 1203, 1_500_300, 0,
         210_030, 0, Decimal("0.340000")),
    ]
    for (model,) in wh.sql("select distinct model from usage_raw").rows():
        assert prices.resolve("openrouter", model)[1] is not None, model


def test_generations_csv_rows(wh):
    r = _one(wh, GENERATIONS)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openrouter-generations-csv", "loaded", 4, 0)
    assert _rows(wh)[1] == (
        # naive created_at is UTC; tokens_prompt 8200 includes tokens_cached 2048
        datetime(2026, 9, 12, 8, 50, 11, 20000), "request", "openrouter", "anthropic/claude-sonnet-4.5",
        "Northwind Copilot", "nw-prod-backend", "u-4411", 1, 8200 - 2048, 2048, 1150, 0, Decimal("0.031455"))
    assert _rows(wh)[2][10:] == (2400, 1800, Decimal("0.004871"))


def test_generation_json_native_counts_and_offsets(wh):
    r = _one(wh, GENERATION)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openrouter-generation-json", "loaded", 3, 0)
    assert _rows(wh) == [
        (datetime(2026, 9, 18, 14, 0, 0, 433273), "request", "openrouter", "anthropic/claude-sonnet-4.5", "90210",
         None, "u-4411", 1, 2600 - 1024, 1024, 310, 0, Decimal("0.012345")),
        # 17:00 at +02:00 is 15:00 UTC; native counts, not the normalized tokens_prompt (2913)
        (datetime(2026, 9, 18, 15, 0, 0, 100000), "request", "openrouter", "openai/gpt-4o-mini", "90210", None, None,
         1, 2900, 0, 345, 0, Decimal("0.000642")),
        (datetime(2026, 9, 18, 16, 46, 40), "request", "openrouter", "openai/o4-mini", None, None, "u-5520", 1, 1200,
         0, 1800, 1536, Decimal("0.009130")),
    ]


def test_generation_bare_object_and_bad_value(wh, tmp_path):
    docs = [json.loads(line) for line in GENERATION.read_text().splitlines()]
    docs[1]["data"]["native_tokens_completion"] = "n/a"
    path = tmp_path / "gens.json"
    path.write_text(json.dumps([docs[0]["data"], docs[1]["data"]]))   # an array of bare generation objects
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("openrouter-generation-json", 1, 1)
    assert wh.sql("select row_number, column_name, value, reason from ingest_rejects").rows() == [
        (2, "native_tokens_completion", "n/a", "not a number")]


@pytest.mark.parametrize("path, drop, fmt", [
    (ACTIVITY, "Usage", "openrouter-activity-csv"),
    (GENERATIONS, "cost_total", "openrouter-generations-csv")])
def test_missing_required_column_is_named(wh, tmp_path, path, drop, fmt):
    lines = path.read_text().splitlines()
    header = lines[0].replace(f'"{drop}"', '"other"') if lines[0].startswith('"') else \
        lines[0].replace(f",{drop},", ",other,")
    bad = tmp_path / path.name
    bad.write_text("\n".join([header, *lines[1:]]) + "\n")
    r = _one(wh, bad)
    assert (r.format, r.status) == (fmt, "rejected")
    assert r.error.endswith(f"missing required column(s) {drop} for format {fmt}")


@pytest.mark.parametrize("path, fmt", [(ACTIVITY, "openrouter-activity-csv"),
                                       (GENERATIONS, "openrouter-generations-csv"),
                                       (GENERATION, "openrouter-generation-json")])
def test_detection_picks_each_sample_format(path, fmt):
    assert formats.detect(read.sample(SourceFile(path, str(path), "none"))).id == fmt


@pytest.mark.parametrize("path, rows", [(ACTIVITY, 15), (GENERATIONS, 4), (GENERATION, 3)])
def test_loading_a_file_twice_adds_nothing(wh, path, rows):
    first, second = _one(wh, path), _one(wh, path)
    assert (first.status, first.rows_loaded) == ("loaded", rows)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("duplicate", 0, rows)
