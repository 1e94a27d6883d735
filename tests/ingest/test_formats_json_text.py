"""JSON read as text (issue 12 items 12, 15 and 7): a JSON-lines record of the wrong type is that record's reject,
not the file's; the mapping format reads JSON and JSON lines and names nested keys by dotted path; thinking
reported beside the output (Gemini `thoughtsTokenCount`) is added to output_tokens and kept in reasoning_tokens.
Fixtures in tests/data/formats/ follow the real layouts (Helicone CLI jsonl, Vertex AI generateContent responses,
Claude Code session transcript lines) with our own values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import ingest_paths
from ingest.formats.mapped import MappingError, build, load_mapping

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
HELICONE = DATA / "helicone_requests_bad_types_2026-08-20.jsonl"
GEMINI = DATA / "gemini_harness_responses_2026-09-02.jsonl"
CLAUDE_CODE = DATA / "claude_code_session_2026-09-03.jsonl"


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def test_jsonl_record_of_another_type_rejects_only_that_record(wh):
    """Record 7's created_at is a number (the other records' are ISO text) and record 10 is an array: read by type,
    the whole column became JSON and every row failed; read as text, the two records are set aside by name."""
    r = _one(wh, HELICONE)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("helicone-requests", "loaded", 10, 2)
    assert f"{HELICONE} row 7, column created_at: not a date/time ('1787213111')" in r.error
    assert f"{HELICONE} row 10, column created_at: missing time" in r.error
    assert wh.sql("select sum(cost_usd) from usage_raw").item() == Decimal("0.015100")
    # values read as text: ISO times unquoted, numbers as written
    assert wh.sql("select min(ts), max(input_tokens) from usage_raw").row(0) == (datetime(2026, 8, 20, 8, 5, 11, 100000),
                                                                                  1110)


def test_mapping_reads_json_lines_with_nested_keys_and_thinking_beside_output(wh):
    r = _one(wh, GEMINI, fmt=load_mapping(DATA / "gemini_harness.mapping.yaml"))
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("mapped-csv", "loaded", 4, 0)
    rows = wh.sql("select model, team, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens "
                  "from usage_raw order by ts").rows()
    assert rows == [
        # candidatesTokenCount 612 + thoughtsTokenCount 1480: output includes the thinking, reasoning holds it
        ("gemini-2.5-pro", "growth", 5120, 0, 2092, 1480),
        # promptTokenCount 7311 includes cachedContentTokenCount 4096
        ("gemini-2.5-pro", "growth", 3215, 4096, 240, 0),
        ("gemini-2.5-flash", "growth", 2210, 0, 483, 388),
        ("gemini-2.5-flash", "growth", 806, 1024, 289, 212),
    ]


def test_mapping_reads_a_session_transcript_and_names_bad_records(wh):
    r = _one(wh, CLAUDE_CODE, fmt=load_mapping(DATA / "claude_code_session.mapping.yaml"))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 2, 2)
    # the user line has no model; the sidechain line's input_tokens is an array
    assert f"{CLAUDE_CODE} row 1, column message.model: nothing to place" in r.error
    assert f"{CLAUDE_CODE} row 4, column message.usage.input_tokens: not a number ('[3]')" in r.error
    rows = wh.sql("select model, project, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens "
                  "from usage_raw order by ts").rows()
    # "7" (a string) is a number read as text
    assert rows == [("claude-sonnet-4-5-20250929", "s-77", 12, 14020, 8190, 402),
                    ("claude-sonnet-4-5-20250929", "s-77", 7, 22210, 512, 1288)]


def test_mapping_reads_a_json_array_too(wh, tmp_path):
    path = tmp_path / "calls.json"
    path.write_text('[{"at": "2026-09-05T10:00:00Z", "m": "gpt-4.1", "usage": {"prompt": 10, "completion": 4}},'
                    ' {"at": "2026-09-05T10:01:00Z", "m": "gpt-4.1", "usage": {"prompt": 30, "completion": 6}}]')
    fmt = build({"columns": {"at": "ts", "m": "model", "usage.prompt": "input_tokens",
                             "usage.completion": "output_tokens"}, "constants": {"provider": "openai"}})
    r = _one(wh, path, fmt=fmt)
    assert (r.status, r.rows_loaded) == ("loaded", 2)
    assert wh.sql("select sum(input_tokens), sum(output_tokens) from usage_raw").row(0) == (40, 10)


def test_mapping_with_an_unknown_nested_key_is_refused_naming_it(wh, tmp_path):
    fmt = build({"columns": {"createTime": "ts", "modelVersion": "model", "usage.promptTokens": "input_tokens"},
                 "constants": {"provider": "google-vertex"}})
    r = _one(wh, GEMINI, fmt=fmt)
    assert r.status == "rejected" and "usage.promptTokens" in r.error


def test_output_excludes_reasoning_needs_both_columns():
    with pytest.raises(MappingError, match="output_excludes_reasoning"):
        build({"columns": {"t": "ts", "m": "model", "o": "output_tokens"}, "constants": {"provider": "x"},
               "output_excludes_reasoning": True})
    with pytest.raises(MappingError, match="true or false"):
        build({"columns": {"t": "ts", "m": "model"}, "constants": {"provider": "x"},
               "output_excludes_reasoning": "yes"})
