"""litellm-spend-logs on the bundled LiteLLM_SpendLogs export: hand-checked canonical rows, detection, idempotent
loads, rejects that name the file's column."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "litellm_spend_logs_sample.csv"


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _table() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text())))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue())
    return path


def _raw(wh, request_time: str) -> dict:
    cols = ("ts, granularity, provider, model, model_raw, account, project, api_key, user_id, team, operation, "
            "service_tier, requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
            "reasoning_tokens, cost_usd")
    frame = wh.sql(f"select {cols} from usage_raw where ts = timestamp '{request_time}'")
    assert frame.height == 1
    return frame.row(0, named=True)


def test_sample_loads_300_requests_in_oct_nov_2026(wh):
    r = _one(wh, SAMPLE)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("litellm-spend-logs", "loaded", 300, 0)
    lo, hi, n_models, providers = wh.sql(
        "select min(ts), max(ts), count(distinct model), list(distinct provider order by provider) from usage"
    ).row(0)
    assert datetime(2026, 10, 1) <= lo and hi < datetime(2026, 11, 28)
    assert n_models == 5
    assert providers == ["anthropic", "google-vertex", "openai"]


def test_anthropic_row_with_cache_read(wh):
    _one(wh, SAMPLE)
    # msg_019aabc9385056a78f9e5d: prompt_tokens 3254 include cache_read_input_tokens 1024
    assert _raw(wh, "2026-10-01 00:26:28.291") == {
        "ts": datetime(2026, 10, 1, 0, 26, 28, 291000), "granularity": "request", "provider": "anthropic",
        "model": "claude-sonnet-4-5-20250929", "model_raw": "claude-sonnet-4-5-20250929",
        "account": "org-northwind", "project": "support-triage", "api_key": "support-bot-prod",
        "user_id": "svc-support", "team": "customer-support", "operation": "chat", "service_tier": "standard",
        "requests": 1, "input_tokens": 3254 - 1024, "cache_read_tokens": 1024, "cache_write_tokens": 0,
        "output_tokens": 210, "reasoning_tokens": 0,
        # 2230 x $3 + 1024 x $0.30 + 210 x $15 per million
        "cost_usd": Decimal("0.0101472"),
    }


def test_anthropic_row_with_cache_write(wh):
    _one(wh, SAMPLE)
    # msg_012ba548b12b6860c57552: prompt_tokens 4029 include cache_creation_input_tokens 1536
    got = _raw(wh, "2026-10-02 02:11:47.348")
    assert (got["input_tokens"], got["cache_read_tokens"], got["cache_write_tokens"], got["output_tokens"]) == \
        (4029 - 1536, 0, 1536, 314)
    assert (got["team"], got["project"], got["api_key"], got["cost_usd"]) == \
        ("data-science", "churn-research", "research-notebooks", Decimal("0.017949"))


def test_openai_row_with_cached_tokens(wh):
    _one(wh, SAMPLE)
    # chatcmpl-71fa1ea2893663df0d35: prompt_tokens_details.cached_tokens 2048 of 6605
    got = _raw(wh, "2026-10-01 14:02:34.342")
    assert (got["provider"], got["model_raw"], got["input_tokens"], got["cache_read_tokens"],
            got["output_tokens"], got["cost_usd"]) == \
        ("openai", "gpt-4o-2024-08-06", 6605 - 2048, 2048, 942, Decimal("0.0233725"))


def test_vertex_row_maps_provider_and_reasoning(wh):
    _one(wh, SAMPLE)
    # vtx-aa331ce003100b968280: custom_llm_provider vertex_ai, reasoning_tokens 284 inside completion_tokens 1136
    got = _raw(wh, "2026-10-01 09:50:14.496")
    assert (got["provider"], got["model"], got["input_tokens"], got["output_tokens"], got["reasoning_tokens"]) == \
        ("google-vertex", "gemini-2.5-flash", 952, 1136, 284)


def test_spend_is_consistent_with_list_prices(wh):
    _one(wh, SAMPLE)
    # the catalog prices every sample model; LiteLLM's estimate and the catalog agree to within 0.1% per model
    frame = wh.sql("select model, sum(cost_usd) as billed, sum(list_cost_usd) as listed, "
                   "count(*) filter (where list_cost_usd is null) as unpriced from usage group by model")
    assert frame.height == 5
    for model, billed, listed, unpriced in frame.rows():
        assert unpriced == 0, model
        assert billed > 0 and abs(billed - listed) <= Decimal("0.001") * billed, (model, billed, listed)


def test_detection_picks_litellm_not_openai_or_canonical():
    assert formats.detect(read.sample(SourceFile(SAMPLE, str(SAMPLE), "none"))).id == "litellm-spend-logs"


def test_loading_twice_adds_nothing_and_overlapping_export_adds_only_new_requests(wh, tmp_path):
    first, again = _one(wh, SAMPLE), _one(wh, SAMPLE)
    assert (first.rows_loaded, again.status, again.rows_loaded, again.rows_duplicate) == (300, "duplicate", 0, 300)
    header, rows = _table()
    new = list(rows[-1])
    new[header.index("request_id")] = "chatcmpl-new-request-0001"
    later = _write(tmp_path / "spend_logs_later.csv", header, [*rows[-10:], new])
    r = _one(wh, later)
    assert (r.status, r.rows_loaded, r.rows_duplicate) == ("loaded", 1, 10)
    assert wh.sql("select count(*) as n from usage")["n"][0] == 301


def test_missing_required_column_is_named(wh, tmp_path):
    header, rows = _table()
    drop = header.index("model")
    path = _write(tmp_path / "no_model.csv", [c for i, c in enumerate(header) if i != drop],
                  [[c for i, c in enumerate(row) if i != drop] for row in rows[:5]])
    r = _one(wh, path)
    assert (r.format, r.status) == ("litellm-spend-logs", "rejected")
    assert r.error.endswith("missing required column(s) model for format litellm-spend-logs")
    assert wh.sql("select count(*) as n from usage_raw")["n"][0] == 0


def test_bad_numeric_cells_are_set_aside_naming_row_and_column(wh, tmp_path):
    header, rows = _table()
    rows = [list(r) for r in rows[:6]]
    rows[2][header.index("completion_tokens")] = "12O"       # data row 3: a letter O
    rows[4][header.index("prompt_tokens")] = "n/a"           # data row 5: read through _raw_input_tokens
    rows[5][header.index("spend")] = "$0.01"                 # data row 6
    r = _one(wh, _write(tmp_path / "bad.csv", header, rows))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 3)
    got = wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()
    assert got == [
        (3, "completion_tokens", "12O", "not a number"),
        (5, "prompt_tokens", "n/a", "not a number"),
        (6, "spend", "$0.01", "not an amount"),
    ]


def test_idless_rows_keep_their_content_and_occurrence_keys(wh, tmp_path):
    """Rows without a request id are keyed on their content plus their occurrence among identical id-less rows
    (writes/key_idless_rows.sql, numbered apart from the staging pass). The keys are pinned to the values the
    earlier one-pass staging gave, so a ledger loaded before still recognises these rows in a later export."""
    header, rows = _table()
    i = header.index("request_id")
    a, b = list(rows[0]), list(rows[1])
    a[i] = b[i] = ""
    path = _write(tmp_path / "idless.csv", header, [a, a, b, list(rows[2]), a])
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_duplicate) == ("loaded", 5, 0)
    keys = sorted(int(k) for k in wh.sql("select row_key from usage_raw")["row_key"].to_list())
    assert keys == [-87535100216337747434226661477530736905, -50498050065730490234760994470626557565,
                    18709033467309883851858581141280681659, 101313881725836963275677409872399174760,
                    162651712774024014266513387048724074880]
    # a later export of the same rows with one more identical id-less line: only that line is new
    again = _one(wh, _write(tmp_path / "idless2.csv", header, [a, a, b, list(rows[2]), a, a]))
    assert (again.rows_loaded, again.rows_duplicate) == (1, 5)
