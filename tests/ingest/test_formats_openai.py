"""openai-usage-api (JSON pages) and openai-usage-csv (dashboard export): hand-checked canonical rows, detection,
idempotent loads, rejects that name the file's column."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
API_COMPLETIONS = SAMPLE / "openai_usage_api_completions.json"
API_EMBEDDINGS = SAMPLE / "openai_usage_api_embeddings.json"
CSV_OCT = SAMPLE / "openai_completions_usage_2026-10-01_2026-10-31.csv"
LITELLM = SAMPLE / "litellm_spend_logs_sample.csv"

COLS = ("ts", "granularity", "provider", "model_raw", "project", "api_key", "user_id", "operation", "service_tier",
        "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _rows(wh, where: str) -> pl.DataFrame:
    return wh.sql(f"select {', '.join(COLS)} from usage where {where} order by model_raw, service_tier")


def _rejects(wh) -> list[tuple]:
    return wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


# ---------------------------------------------------------------- openai-usage-api


def test_api_completions_first_bucket_is_split_into_token_classes(wh):
    result = _one(wh, API_COMPLETIONS)
    assert (result.format, result.status, result.rows_loaded, result.rows_rejected) == \
        ("openai-usage-api", "loaded", 19, 0)

    got = _rows(wh, "ts = timestamp '2026-03-02 00:00:00'")
    day = datetime(2026, 3, 2)  # bucket start 1772409600 = 2026-03-02T00:00:00Z
    want = pl.DataFrame({
        "ts": [day] * 4,
        "granularity": ["day"] * 4,
        "provider": ["openai"] * 4,
        "model_raw": ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", "o4-mini-2025-04-16"],
        "project": ["proj_NwFinAssist01", "proj_NwResearch03", "proj_NwSupportBot02", "proj_NwResearch03"],
        "api_key": ["key_nwFin9aQ2", "key_nwRes1mK8", "key_nwSup4xT7", "key_nwRes1mK8"],
        "user_id": [None, None, None, None],
        "operation": ["chat"] * 4,
        "service_tier": ["standard", "batch", "standard", "flex"],
        "requests": [1_120, 450, 5_300, 40],
        # result input_tokens minus input_cached_tokens minus input_cache_write_tokens
        "input_tokens": [1_250_000 - 400_000, 900_000 - 100_000, 3_400_000, 64_000 - 12_800 - 6_400],
        "cache_read_tokens": [400_000, 100_000, 0, 12_800],
        "cache_write_tokens": [0, 0, 0, 6_400],
        "output_tokens": [85_000, 300_000, 210_000, 48_000],
        "reasoning_tokens": [0, 0, 0, 0],
    }, schema_overrides={"user_id": pl.String})
    assert_frame_equal(got, want, check_dtypes=False)


def test_api_empty_bucket_yields_no_rows_and_times_are_utc_bucket_starts(wh):
    _one(wh, API_COMPLETIONS)
    days = wh.sql("select distinct cast(ts as date) as d, count(*) over (partition by ts) as n "
                  "from usage order by d")["d"].to_list()
    # seven daily buckets 2026-03-02..08; Sunday 03-08 has results: [] and must not appear
    assert [d.isoformat() for d in days] == [f"2026-03-0{i}" for i in range(2, 8)]
    assert wh.sql("select count(*) as n from usage where hour(ts) <> 0 or minute(ts) <> 0")["n"][0] == 0


def test_api_embeddings_hourly_buckets(wh):
    result = _one(wh, API_EMBEDDINGS)
    assert (result.format, result.rows_loaded, result.rows_rejected) == ("openai-usage-api", 12, 0)
    got = _rows(wh, "ts = timestamp '2026-06-15 06:00:00'").row(0, named=True)
    assert got == {
        "ts": datetime(2026, 6, 15, 6), "granularity": "hour", "provider": "openai",
        "model_raw": "text-embedding-3-small", "project": "proj_NwResearch03", "api_key": None, "user_id": None,
        "operation": "embeddings", "service_tier": "standard", "requests": 512, "input_tokens": 2_048_000,
        "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0,
    }
    # 12:00 and 13:00 are empty buckets
    assert wh.sql("select count(*) as n from usage where hour(ts) in (12, 13)")["n"][0] == 0
    assert wh.sql("select distinct granularity, operation from usage").rows() == [("hour", "embeddings")]


def test_api_array_of_pages_and_json_lines_read_like_pages(wh, tmp_path):
    page = json.loads(API_COMPLETIONS.read_text())
    first, second = dict(page, data=page["data"][:3], has_more=True), dict(page, data=page["data"][3:])
    array = tmp_path / "pages.json"
    array.write_text(json.dumps([first, second]))
    lines = tmp_path / "pages.jsonl"
    lines.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")

    r = _one(wh, array)
    assert (r.format, r.status, r.rows_loaded) == ("openai-usage-api", "loaded", 19)
    # the same buckets as JSON lines (different bytes): every row is already there
    r = _one(wh, lines)
    assert (r.format, r.status, r.rows_loaded, r.rows_duplicate) == ("openai-usage-api", "loaded", 0, 19)
    # and so is the single page
    r = _one(wh, API_COMPLETIONS)
    assert (r.rows_loaded, r.rows_duplicate) == (0, 19)
    assert wh.sql("select sum(input_tokens) as s from usage")["s"][0] == wh.sql(
        "select sum(input_tokens) as s from usage_raw")["s"][0]


def test_api_other_endpoints_map_operation_and_null_group_fields(wh, tmp_path):
    def result(obj, **kw):
        return {"object": f"organization.usage.{obj}.result", "num_model_requests": 3, "project_id": None,
                "user_id": None, "api_key_id": None, "model": None, **kw}
    buckets = [{"object": "bucket", "start_time": 1790812800 + i * 60, "end_time": 1790812860 + i * 60,
                "results": [r]} for i, r in enumerate([
                    result("moderations", input_tokens=900, model="omni-moderation-latest"),
                    result("images", images=3, source="image.generation", size="1024x1024", model="gpt-image-1"),
                    result("audio_speeches", characters=4200, model="tts-1"),
                    result("audio_transcriptions", seconds=610, model="whisper-1"),
                    result("completions", input_tokens=10, output_tokens=5),  # not grouped by model
                    {"object": "organization.usage.vector_stores.result", "usage_bytes": 1024, "project_id": None},
                ])]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"object": "page", "data": buckets, "has_more": False, "next_page": None}))
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("openai-usage-api", 5, 0)
    got = wh.sql("select granularity, model, operation, requests, input_tokens, output_tokens from usage_raw "
                 "order by ts").rows()
    assert got == [
        ("minute", "omni-moderation-latest", "moderation", 3, 900, 0),
        ("minute", "gpt-image-1", "images", 3, 0, 0),
        ("minute", "tts-1", "audio", 3, 0, 0),
        ("minute", "whisper-1", "audio", 3, 0, 0),
        ("minute", "unknown", "chat", 3, 10, 5),   # kept, and visibly unpriced
    ]


def test_api_bad_numeric_value_is_set_aside_naming_row_and_field(wh, tmp_path):
    page = json.loads(API_COMPLETIONS.read_text())
    page["data"][0]["results"][1]["input_cached_tokens"] = "lots"       # result 2 in file order
    page["data"][1]["results"][0]["input_tokens"] = 5                  # result 5: fewer than its cached tokens
    page["data"][1]["results"][0]["input_cached_tokens"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    # a non-number cannot be placed: set aside; a negative count can: kept with a named warning
    assert (r.status, r.rows_loaded, r.rows_rejected, r.rows_warned) == ("loaded", 18, 1, 1)
    assert _rejects(wh) == [(2, "input_cached_tokens", "lots", "not a number")]
    assert wh.sql("select row_number, column_name, value, warning from ingest_warnings").rows() == [
        (5, "input_tokens", "-2.0", "negative (kept as written)")]


def test_api_bucket_of_unknown_width_is_kept_with_a_warning_naming_end_time(wh, tmp_path):
    page = {"object": "page", "has_more": False, "data": [
        {"object": "bucket", "start_time": 1790812800, "end_time": 1790812800 + 7200, "results": [
            {"object": "organization.usage.embeddings.result", "input_tokens": 10, "num_model_requests": 1,
             "model": "text-embedding-3-small"}]}]}
    path = tmp_path / "two_hours.json"
    path.write_text(json.dumps(page))
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_warned) == ("loaded", 1, 1)
    [(column, warning)] = wh.sql("select column_name, warning from ingest_warnings").rows()
    assert column == "end_time" and "not one of" in warning


def test_api_missing_required_field_is_named(wh, tmp_path):
    path = tmp_path / "no_end.json"
    path.write_text(json.dumps({"object": "page", "data": [
        {"object": "bucket", "start_time": 1790812800, "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 1, "output_tokens": 1,
             "num_model_requests": 1, "model": "gpt-4o"}]}]}))
    r = _one(wh, path, format_id="openai-usage-api")
    assert r.status == "rejected"
    assert r.error.endswith("missing required column(s) end_time for format openai-usage-api")


# ---------------------------------------------------------------- openai-usage-csv


def test_csv_floats_booleans_and_blank_buckets(wh):
    r = _one(wh, CSV_OCT)
    # 30 days with usage (2 or 3 project x model rows); 2026-10-04 is a blank bucket row, skipped, not rejected
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openai-usage-csv", "loaded", 76, 0)
    assert wh.sql("select count(*) as n from usage where cast(ts as date) = date '2026-10-04'")["n"][0] == 0
    assert wh.sql("select count(*) as n from ingest_rejects")["n"][0] == 0

    got = _rows(wh, "ts = timestamp '2026-10-01 00:00:00' and project <> 'proj_NwResearch03'")
    want = pl.DataFrame({
        "ts": [datetime(2026, 10, 1)] * 2,     # start_time 1790812800; start_time_iso has no offset here
        "granularity": ["day"] * 2,
        "provider": ["openai"] * 2,
        "model_raw": ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"],
        "project": ["proj_NwFinAssist01", "proj_NwSupportBot02"],
        "api_key": [None, None],
        "user_id": [None, None],
        "operation": ["chat"] * 2,
        "service_tier": ["standard"] * 2,      # batch "False", service_tier "default"
        "requests": [4, 812],                  # "4.0", "812.0"
        "input_tokens": [31_422, 1_024_512 - 204_800],
        "cache_read_tokens": [0, 204_800],
        "cache_write_tokens": [0, 0],
        "output_tokens": [29, 96_210],
        "reasoning_tokens": [0, 0],
    }, schema_overrides={"api_key": pl.String, "user_id": pl.String})
    assert_frame_equal(got, want, check_dtypes=False)
    assert wh.sql("select min(ts) as a, max(ts) as b from usage").row(0) == (datetime(2026, 10, 1),
                                                                             datetime(2026, 10, 31))


HEADER = ["start_time", "end_time", "start_time_iso", "end_time_iso", "project_id", "num_model_requests",
          "user_id", "api_key_id", "model", "batch", "service_tier", "input_tokens", "output_tokens",
          "input_cached_tokens", "input_cache_write_tokens"]


def test_csv_iso_fallback_is_utc_with_or_without_offset_and_true_is_batch(wh, tmp_path):
    path = _write_csv(tmp_path / "completions_usage_2026-11-01_2026-11-02.csv", HEADER, [
        # no unix times: the ISO text, without an offset = UTC
        ["", "", "2026-11-01T00:00:00", "2026-11-02T00:00:00", "proj_a", "2.0", "", "key_a", "gpt-4o-mini",
         "TRUE", "default", "1000.0", "10.0", "200.0", "100.0"],
        # with an offset: converted to UTC
        ["", "", "2026-11-02T02:00:00+02:00", "2026-11-03T02:00:00+02:00", "proj_a", "1.0", "", "key_a",
         "gpt-4o-mini", "False", "priority", "50.0", "5.0", "0.0", "0.0"],
    ])
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("openai-usage-csv", 2, 0)
    got = wh.sql("select ts, granularity, service_tier, input_tokens, cache_read_tokens, cache_write_tokens "
                 "from usage_raw order by ts").rows()
    assert got == [(datetime(2026, 11, 1), "day", "batch", 700, 200, 100),
                   (datetime(2026, 11, 2), "day", "priority", 50, 0, 0)]


def test_csv_and_api_rows_of_the_same_bucket_load_once(wh, tmp_path):
    _one(wh, API_COMPLETIONS)
    # the dashboard export of the 2026-03-02 gpt-4o bucket, as the CSV renders it
    path = _write_csv(tmp_path / "completions_usage_2026-03-02_2026-03-02.csv", HEADER, [
        ["1772409600", "1772496000", "2026-03-02T00:00:00", "2026-03-03T00:00:00", "proj_NwFinAssist01",
         "1120.0", "", "key_nwFin9aQ2", "gpt-4o-2024-08-06", "False", "default", "1250000.0", "85000.0",
         "400000.0", "0.0"]])
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_duplicate) == ("openai-usage-csv", 0, 1)


def test_csv_bad_numeric_cell_is_set_aside_naming_row_and_column(wh, tmp_path):
    lines = CSV_OCT.read_text().splitlines()
    header = lines[0].split(",")
    bad = lines[2].split(",")                       # data row 2
    bad[header.index("output_tokens")] = "962l0"
    lines[2] = ",".join(bad)
    path = tmp_path / "completions_usage_2026-10-01_2026-10-31.csv"
    path.write_text("\n".join(lines) + "\n")
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 75, 1)
    assert _rejects(wh) == [(2, "output_tokens", "962l0", "not a number")]
    assert wh.sql("select count(*) as n from usage where project = 'proj_NwSupportBot02' "
                  "and ts = timestamp '2026-10-01'")["n"][0] == 0


def test_csv_missing_required_column_is_named(wh, tmp_path):
    lines = [line.split(",") for line in CSV_OCT.read_text().splitlines()]
    drop = lines[0].index("model")
    path = tmp_path / "no_model.csv"
    path.write_text("\n".join(",".join(c for i, c in enumerate(row) if i != drop) for row in lines) + "\n")
    r = _one(wh, path)   # still recognised by its counters, then refused
    assert (r.format, r.status, r.rows_loaded) == ("openai-usage-csv", "rejected", 0)
    assert r.error.endswith("missing required column(s) model for format openai-usage-csv")
    assert wh.sql("select count(*) as n from usage_raw")["n"][0] == 0


# ---------------------------------------------------------------- both


@pytest.mark.parametrize("path, fmt", [
    (API_COMPLETIONS, "openai-usage-api"),
    (API_EMBEDDINGS, "openai-usage-api"),
    (CSV_OCT, "openai-usage-csv"),
    (LITELLM, "litellm-spend-logs"),
])
def test_detection_picks_each_sample_format(path, fmt):
    sample = read.sample(SourceFile(path, str(path), "none"))
    assert formats.detect(sample).id == fmt


def test_detection_leaves_canonical_files_alone(tmp_path):
    path = _write_csv(tmp_path / "canonical.csv",
                      ["ts", "provider", "model", "input_tokens", "output_tokens", "requests"],
                      [["2026-10-01T00:00:00Z", "openai", "gpt-4o", "10", "2", "1"]])
    assert formats.detect(read.sample(SourceFile(path, str(path), "none"))).id == "canonical"


def test_openai_formats_are_tried_before_litellm_and_canonical():
    order = list(formats.FORMATS)
    assert order.index("openai-usage-api") < order.index("litellm-spend-logs") < order.index("canonical")
    assert order.index("openai-usage-csv") < order.index("litellm-spend-logs")


@pytest.mark.parametrize("path, rows", [(API_COMPLETIONS, 19), (API_EMBEDDINGS, 12), (CSV_OCT, 76)])
def test_loading_a_file_twice_adds_nothing(wh, path, rows):
    first, second = _one(wh, path), _one(wh, path)
    assert (first.status, first.rows_loaded) == ("loaded", rows)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("duplicate", 0, rows)
    assert wh.sql("select count(*) as n from usage")["n"][0] == rows


def test_overlapping_export_loads_only_new_buckets(wh, tmp_path):
    _one(wh, CSV_OCT)
    lines = CSV_OCT.read_text().splitlines()
    # a later export: the last 3 populated rows of October again (other bytes) plus a new November day
    extra = "1793491200,1793577600,2026-11-01T00:00:00,2026-11-02T00:00:00,proj_NwFinAssist01,7.0,,,gpt-4o-2024-08-06," \
            "False,default,,7000.0,700.0,0.0,0.0,7000.0,7000.0,700.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0"
    path = tmp_path / "completions_usage_2026-10-30_2026-11-01.csv"
    path.write_text("\n".join([lines[0], *lines[-3:], extra]) + "\n")
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_duplicate) == (1, 3)
    assert wh.sql("select count(*) as n from usage")["n"][0] == 77
