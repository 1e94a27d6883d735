"""Gateway/observability telemetry: Helicone request exports and Langfuse observation exports. Hand-checked
canonical rows (token split, cost units incl. the raw ×1e9 dump, UTC times), detection, idempotent loads,
rejects naming the file's column, skipped non-generation observations."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
HELICONE = SAMPLE / "helicone_requests_2026-08.csv"
LANGFUSE = SAMPLE / "langfuse_observations_2026-09.jsonl"
COLS = ("ts, provider, model, project, user_id, team, workload, operation, requests, input_tokens, "
        "cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _rows(wh) -> list[tuple]:
    return wh.sql(f"select {COLS} from usage_raw order by ts").rows()


def _row(wh, ts: str) -> tuple:
    [row] = wh.sql(f"select {COLS} from usage_raw where ts = timestamp '{ts}'").rows()
    return row


def _rejects(wh) -> list[tuple]:
    return wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()


# ---------------------------------------------------------------- helicone-requests

def test_helicone_cli_csv_rows(wh):
    r = _one(wh, HELICONE)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("helicone-requests", "loaded", 40, 0)
    # o4-mini: tokens 6608 = prompt 5217 + completion 879 + reasoning 512; ...Z is UTC; cost in dollars
    assert _row(wh, "2026-08-12 19:17:08.033") == (
        datetime(2026, 8, 12, 19, 17, 8, 33000), "openai", "o4-mini", None, "u-1042", None, None,
        "chat", 1, 5217, 0, 0, 879 + 512, 512, Decimal("0.0118591"))
    # a failed (429) request is still one request, with no tokens and no money
    assert _row(wh, "2026-08-11 11:18:51.488")[8:] == (1, 0, 0, 0, 0, 0, Decimal("0.000000"))
    providers = wh.sql("select provider, count(*) as n from usage_raw group by all order by all").rows()
    assert providers == [("anthropic", 6), ("azure-openai", 4), ("openai", 30)]
    assert wh.sql("select count(*) from usage_raw where operation = 'embeddings'").rows() == [(5,)]


def _api_records() -> list[dict]:
    """Two HeliconeRequest records as the request API / @helicone/export JSON gives them (cost in dollars)."""
    return [
        {"request_id": "5b6a1c9e-0001-4a8e-9d10-aa0000000001", "request_created_at": "2026-08-20T23:30:00.250+02:00",
         "request_model": "claude-sonnet-4-5-20250929", "response_model": "claude-sonnet-4-5-20250929",
         "provider": "ANTHROPIC", "request_user_id": "u-1042", "response_status": 200,
         "request_properties": {"Helicone-Property-Project": "copilot", "Helicone-Property-Team": "finance-eng"},
         "prompt_tokens": 5000, "prompt_cache_read_tokens": 3000, "prompt_cache_write_tokens": 1000,
         "completion_tokens": 400, "reasoning_tokens": 0, "cost": 0.01275, "request_path": "/v1/messages"},
        {"request_id": "5b6a1c9e-0002-4a8e-9d10-aa0000000002", "request_created_at": "2026-08-21T08:00:00.000Z",
         "request_model": "gpt-4o", "provider": "AZURE", "request_user_id": None, "response_status": 200,
         "request_properties": {"App": "ledger-bot"}, "prompt_tokens": 1200, "prompt_cache_read_tokens": 0,
         "prompt_cache_write_tokens": 0, "completion_tokens": 100, "reasoning_tokens": 0, "cost": 0.004,
         "request_path": "/openai/deployments/gpt-4o/chat/completions"},
    ]


def test_helicone_api_jsonl_splits_cache_and_reads_properties(wh, tmp_path):
    path = tmp_path / "helicone_export.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in _api_records()) + "\n")
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("helicone-requests", 2, 0)
    assert _rows(wh) == [
        # 23:30 at +02:00 is 21:30 UTC; prompt 5000 includes 3000 cache reads and 1000 cache writes
        (datetime(2026, 8, 20, 21, 30, 0, 250000), "anthropic", "claude-sonnet-4-5-20250929", "copilot", "u-1042",
         "finance-eng", None, "chat", 1, 1000, 3000, 1000, 400, 0, Decimal("0.012750")),
        (datetime(2026, 8, 21, 8), "azure-openai", "gpt-4o", "ledger-bot", None, None, None, "chat",
         1, 1200, 0, 0, 100, 0, Decimal("0.004000")),
    ]


RAW_HEADER = ("request_id,request_created_at,status,model,provider,user_id,organization_id,properties,"
              "prompt_tokens,prompt_cache_write_tokens,prompt_cache_read_tokens,completion_tokens,cost")


def test_helicone_raw_clickhouse_dump_divides_cost_by_1e9(wh, tmp_path):
    path = tmp_path / "request_response_rmt.csv"
    path.write_text(RAW_HEADER + "\n"
                    # naive DateTime64 is UTC; cost 12750000 = $0.01275 x 1e9; ClickHouse map text properties
                    "5b6a1c9e-0003-4a8e-9d10-aa0000000003,2026-08-29 06:05:04.321,200,gpt-4.1,OPENAI,u-2207,"
                    "c0ffee00-0000-0000-0000-000000000001,\"{'Project':'forecasting','Team':'fp-and-a'}\","
                    "2048,0,1024,512,7192000\n")
    r = _one(wh, path)
    assert (r.format, r.rows_loaded) == ("helicone-requests", 1)
    assert _rows(wh) == [(datetime(2026, 8, 29, 6, 5, 4, 321000), "openai", "gpt-4.1", "forecasting", "u-2207",
                          "fp-and-a", None, "chat", 1, 1024, 1024, 0, 512, 0, Decimal("0.007192"))]


def test_helicone_cli_cost_is_dollars_not_divided(wh, tmp_path):
    # the CLI export has `status` too, but with `created_at`: its cost is already dollars
    path = tmp_path / "cli.csv"
    path.write_text("request_id,created_at,model,provider,status,prompt_tokens,completion_tokens,cost,user_id\n"
                    "r-1,2026-08-30T10:00:00Z,gpt-4o-mini,OPENAI,200,1000,100,0.00021,u-1\n")
    _one(wh, path)
    assert _rows(wh)[0][-1] == Decimal("0.000210")


def test_helicone_bad_values_set_aside_with_row_and_column(wh, tmp_path):
    lines = HELICONE.read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:6]]
    rows[1][header.index("completion_tokens")] = "4O7"     # data row 2
    rows[3][header.index("cost")] = "$0.01"                # data row 4
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_rejected) == (3, 2)
    assert _rejects(wh) == [(2, "completion_tokens", "4O7", "not a number"), (4, "cost", "$0.01", "not an amount")]


def test_helicone_raw_dump_bad_cost_is_rejected_not_nulled(wh, tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text(RAW_HEADER + "\n"
                    "r-9,2026-08-29 06:05:04,200,gpt-4.1,OPENAI,u-1,org,{},100,0,0,10,n/a\n"
                    "r-10,2026-08-29 06:05:05,200,gpt-4.1,OPENAI,u-1,org,{},100,0,0,10,1000\n")
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    assert _rejects(wh) == [(1, "cost", "n/a", "not an amount")]


# ---------------------------------------------------------------- langfuse-observations

def test_langfuse_jsonl_rows_and_spans_skipped(wh):
    r = _one(wh, LANGFUSE)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("langfuse-observations", "loaded", 28, 0)
    # o4-mini: input 4735 excludes input_cached_tokens 1024; output 341 excludes output_reasoning_tokens 384
    assert _row(wh, "2026-09-08 07:37:27.156345") == (
        datetime(2026, 9, 8, 7, 37, 27, 156345), "openai", "o4-mini", "cm-northwind-prod", "u-2207", None,
        "invoice-qa", "chat", 1, 4735, 1024, 0, 341 + 384, 384, Decimal("0.0086801"))
    # claude: cache_creation_input_tokens -> cache writes
    assert _row(wh, "2026-09-09 12:29:22.657214")[1:] == (
        "anthropic", "claude-sonnet-4-5-20250929", "cm-northwind-prod", "u-2207", None, "invoice-qa",
        "chat", 1, 2648, 0, 1536, 128, 0, Decimal("0.015624"))
    assert wh.sql("select count(*) from ingest_rejects").rows() == [(0,)]


def _docs() -> list[dict]:
    return [json.loads(line) for line in LANGFUSE.read_text().splitlines()]


def _flat(doc: dict) -> dict:
    """As the CSV export writes it: usage/cost details as JSON text."""
    return {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in doc.items()}


FIRST = (datetime(2026, 9, 8, 7, 37, 27, 156345), "openai", "o4-mini", "cm-northwind-prod", "u-2207", None,
         "invoice-qa", "chat", 1, 4735, 1024, 0, 725, 384, Decimal("0.0086801"))


def test_langfuse_csv_with_json_text_details(wh, tmp_path):
    import csv

    docs = [_flat(d) for d in _docs()[:4]]        # 3 generations and 1 span
    path = tmp_path / "observations.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(docs[0]))
        w.writeheader()
        w.writerows(docs)
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("langfuse-observations", 3, 0)
    assert _rows(wh)[0] == FIRST


def test_langfuse_parquet_map_read_as_text(wh, tmp_path):
    docs = [d for d in _docs()[:4]]
    table = pa.table({
        "id": [d["id"] for d in docs], "trace_id": [d["trace_id"] for d in docs],
        "project_id": [d["project_id"] for d in docs], "type": [d["type"] for d in docs],
        "start_time": pa.array([datetime.fromisoformat(d["start_time"]) for d in docs], pa.timestamp("us")),
        "provided_model_name": [d["provided_model_name"] for d in docs],
        "usage_details": pa.array([list(d["usage_details"].items()) for d in docs], pa.map_(pa.string(), pa.int64())),
        "cost_details": pa.array([list(d["cost_details"].items()) for d in docs], pa.map_(pa.string(), pa.float64())),
        "total_cost": [d["total_cost"] for d in docs], "user_id": [d["user_id"] for d in docs],
        "trace_name": [d["trace_name"] for d in docs],
    })
    path = tmp_path / "observations.parquet"
    pq.write_table(table, path)
    r = _one(wh, path)
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("langfuse-observations", 3, 0)
    assert _rows(wh)[0] == FIRST


def test_langfuse_cost_falls_back_to_cost_details_total(wh, tmp_path):
    doc = _docs()[0]
    doc["total_cost"] = None
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(doc) + "\n")
    _one(wh, path)
    assert _rows(wh) == [FIRST]


def test_langfuse_bad_value_set_aside_with_row_and_column(wh, tmp_path):
    docs = _docs()[:3]                                  # rows 1, 3 are generations, row 2 is a span
    docs[2]["usage_details"]["input"] = "12O"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    r = _one(wh, path)
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    assert _rejects(wh) == [(3, "usage_details", "12O", "not a number")]


# ---------------------------------------------------------------- both

def test_missing_required_column_is_named(wh, tmp_path):
    lines = HELICONE.read_text().splitlines()
    bad = tmp_path / "helicone_no_completion.csv"
    bad.write_text("\n".join([lines[0].replace(",completion_tokens,", ",other,"), *lines[1:]]) + "\n")
    r = _one(wh, bad)
    assert (r.format, r.status) == ("helicone-requests", "rejected")
    assert r.error.endswith("missing required column(s) completion_tokens for format helicone-requests")

    docs = _docs()
    for d in docs:
        del d["start_time"]
    bad = tmp_path / "langfuse_no_start.jsonl"
    bad.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    r = _one(wh, bad)
    assert (r.format, r.status) == ("langfuse-observations", "rejected")
    assert r.error.endswith("missing required column(s) start_time for format langfuse-observations")


@pytest.mark.parametrize("path, fmt", [(HELICONE, "helicone-requests"), (LANGFUSE, "langfuse-observations")])
def test_detection_picks_each_sample_format(path, fmt):
    assert formats.detect(read.sample(SourceFile(path, str(path), "none"))).id == fmt


@pytest.mark.parametrize("path, rows", [(HELICONE, 40), (LANGFUSE, 28)])
def test_loading_a_file_twice_adds_nothing(wh, path, rows):
    first, second = _one(wh, path), _one(wh, path)
    assert (first.status, first.rows_loaded) == ("loaded", rows)
    assert (second.status, second.rows_loaded, second.rows_duplicate) == ("duplicate", 0, rows)


def test_same_requests_in_another_file_load_once(wh, tmp_path):
    _one(wh, LANGFUSE)
    again = tmp_path / "overlap.jsonl"                  # a later export overlapping the first one
    again.write_text("\n".join(json.dumps(d) for d in _docs()[-5:]) + "\n")
    r = _one(wh, again)
    assert (r.status, r.rows_loaded, r.rows_duplicate) == ("loaded", 0, 5)
