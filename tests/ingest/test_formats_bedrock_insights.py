"""Bedrock invocation logs exported from CloudWatch Logs Insights (issue 12 item 8): the GetQueryResults JSON with
the record as text in `@message`, the same rows as a bare array, a flat array of cells, and a query that picked
fields. Fixtures in tests/data/formats/ follow the real layout (AWS ResultField {field, value}; @timestamp,
@message, @ptr cells; statistics and status) with our own values."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
ENVELOPE = DATA / "bedrock_logs_insights_2026-06-10.json"
ROWS = DATA / "bedrock_logs_insights_rows_2026-06-10.json"
CELLS = DATA / "bedrock_logs_insights_cells_2026-06-10.json"
FIELDS = DATA / "bedrock_logs_insights_fields_2026-06-10.json"
COLS = "ts, provider, model, model_raw, account, user_id, team, requests, input_tokens, cache_read_tokens, output_tokens"


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


@pytest.mark.parametrize("path", [ENVELOPE, ROWS, CELLS, FIELDS])
def test_insights_shapes_are_detected(path):
    sample = read.sample(SourceFile(path, path.name, "none"))
    assert formats.detect(sample).id == "bedrock-invocation-logs"


def test_insights_results_load_one_row_per_event_and_reject_only_the_bad_one(wh):
    r = _one(wh, ENVELOPE)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("bedrock-invocation-logs", "loaded", 3, 1)
    # the 3rd event's outputTokenCount is "n/a": named by event number and the record's field
    assert f"{ENVELOPE} row 3, column output.outputTokenCount: not a number ('n/a')" in r.error
    rows = wh.sql(f"select {COLS} from usage_raw order by ts").rows()
    assert rows[0] == (datetime(2026, 6, 10, 1, 15, 42), "aws-bedrock", "anthropic.claude-sonnet-4-20250514-v1:0",
                       "us.anthropic.claude-sonnet-4-20250514-v1:0", "210987654321",
                       "arn:aws:sts::210987654321:assumed-role/SupportBot/i-0a1b", "support", 1, 1820, 4096, 412)
    assert [r[2] for r in rows] == ["anthropic.claude-sonnet-4-20250514-v1:0", "amazon.nova-lite-v1:0",
                                    "anthropic.claude-3-haiku-20240307-v1:0"]


@pytest.mark.parametrize("path", [ROWS, CELLS, FIELDS])
def test_other_shapes_give_the_same_rows(wh, tmp_path, path):
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)
    totals = wh.sql("select count(*), sum(input_tokens), sum(output_tokens), min(ts), max(ts) from usage_raw").row(0)
    assert totals == (3, 1820 + 655 + 90, 412 + 98 + 12, datetime(2026, 6, 10, 1, 15, 42),
                      datetime(2026, 6, 10, 4, 15, 42))


def test_the_same_events_from_two_shapes_load_once(wh):
    _one(wh, ROWS)
    again = _one(wh, CELLS)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 3)      # keyed by requestId
