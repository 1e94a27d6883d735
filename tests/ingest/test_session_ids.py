"""The session / conversation id in the ledger (migration 019): every adapter whose source logs one fills
`usage_raw.session_id` from the source's real field, and the id is metadata, not content: reloading an older
export without it is not a restatement, and a later export that carries it fills it in."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ingest import ingest_paths

OTEL = Path(__file__).resolve().parents[1] / "data" / "otel" / "otel_genai_spans_2026-11-14.jsonl"
LITELLM = Path(__file__).resolve().parents[2] / "sample_data" / "litellm_spend_logs_sample.csv"


def _one(wh, path):
    [result] = ingest_paths(wh, [path])
    return result


def _sessions(wh) -> list[tuple]:
    return wh.sql("select ts, session_id from usage_raw order by ts").rows()


def test_otel_conversation_id_else_session_attribute(wh):
    _one(wh, OTEL)
    # the support bot's chat span logs gen_ai.conversation.id conv-01 (its embeddings span none); the research
    # agent's spans session.id sess-9; the batch summariser logs neither
    got = [s for _, s in _sessions(wh)]
    assert got == ["conv-01", None, "sess-9", "sess-9", None, None]
    # the views the simulator reads carry it
    assert wh.sql("select count(session_id) from usage_replay").item() == 3
    assert wh.sql("select count(session_id) from usage").item() == 3


def _langfuse(session: bool) -> list[dict]:
    """observations_v2 rows (blob storage export): trace context `session_id` on the first trace's observations."""
    base = {"project_id": "cm-1", "environment": "production", "type": "GENERATION", "provided_model_name": "gpt-4o",
            "usage_details": {"input": 100, "output": 10, "input_cached_tokens": 900}, "total_cost": 0.0012,
            "user_id": "u-1", "trace_name": "chat"}
    rows = []
    for k, (trace, sess) in enumerate([("t-a", "chat-42"), ("t-a", "chat-42"), ("t-b", None)]):
        row = {**base, "id": f"obs-{k}", "trace_id": trace, "start_time": f"2026-09-08 07:0{k}:00.000000"}
        if session and sess:
            row["session_id"] = sess
        rows.append(row)
    return rows


def test_langfuse_session_else_trace_id(wh, tmp_path):
    path = tmp_path / "observations_v2.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _langfuse(True)) + "\n")
    assert _one(wh, path).rows_loaded == 3
    assert [s for _, s in _sessions(wh)] == ["chat-42", "chat-42", "t-b"]


def _helicone_api(session: bool) -> list[dict]:
    props = {"Helicone-Property-Team": "support"}
    if session:
        props["Helicone-Session-Id"] = "sess-77"
    return [{"request_id": f"5b6a1c9e-000{k}-4a8e-9d10-aa000000000{k}",
             "request_created_at": f"2026-08-20T10:0{k}:00.000Z", "request_model": "gpt-4o", "provider": "OPENAI",
             "response_status": 200, "request_properties": props, "prompt_tokens": 1000,
             "prompt_cache_read_tokens": 800, "prompt_cache_write_tokens": 0, "completion_tokens": 50,
             "reasoning_tokens": 0, "cost": 0.001, "request_path": "/v1/chat/completions"} for k in (1, 2)]


def test_helicone_session_property_api_json_and_raw_dump(wh, tmp_path):
    path = tmp_path / "helicone.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in _helicone_api(True)) + "\n")
    assert _one(wh, path).rows_loaded == 2
    # a raw request_response_rmt dump: properties as ClickHouse map text
    raw = tmp_path / "request_response_rmt.csv"
    raw.write_text("request_id,request_created_at,status,model,provider,user_id,properties,prompt_tokens,"
                   "prompt_cache_write_tokens,prompt_cache_read_tokens,completion_tokens,cost\n"
                   "5b6a1c9e-0009-4a8e-9d10-aa0000000009,2026-08-29 06:05:04.321,200,gpt-4.1,OPENAI,u-2207,"
                   "\"{'Helicone-Session-Id':'trip-3','Helicone-Session-Path':'/plan','Team':'ops'}\","
                   "2048,0,1024,512,7192000\n")
    assert _one(wh, raw).rows_loaded == 1
    assert [s for _, s in _sessions(wh)] == ["sess-77", "sess-77", "trip-3"]
    assert wh.sql("select team from usage_raw where session_id = 'trip-3'").item() == "ops"


def _litellm_rows(extra: dict[str, str] | None = None, meta_session: str | None = None) -> list[dict]:
    with LITELLM.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:3]
    out = []
    for r in rows:
        r = dict(r)
        if meta_session:
            meta = json.loads(r["metadata"])
            meta["session_id"] = meta_session
            r["metadata"] = json.dumps(meta)
        out.append({**r, **(extra or {})})
    return out


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_litellm_session_column_else_metadata(wh, tmp_path):
    _one(wh, _write(tmp_path / "a.csv", _litellm_rows({"session_id": "s-col"}, meta_session="s-meta")))
    assert {s for _, s in _sessions(wh)} == {"s-col"}


def test_litellm_metadata_session_when_no_column(wh, tmp_path):
    _one(wh, _write(tmp_path / "a.csv", _litellm_rows(meta_session="s-meta")))
    assert {s for _, s in _sessions(wh)} == {"s-meta"}


def test_reloading_an_older_export_without_sessions_is_not_a_restatement(wh, tmp_path):
    """The session id is not part of a row's content hash (usage_content_hash): an export without it, loaded
    after one with it, finds every request already loaded and the ids stay; the other way round, the later
    export's ids fill in the rows loaded without them, and nothing is replaced either way."""
    new = tmp_path / "new.jsonl"
    new.write_text("\n".join(json.dumps(d) for d in _helicone_api(True)) + "\n")
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join(json.dumps(d) for d in _helicone_api(False)) + "\n")
    first = _one(wh, new)
    again = _one(wh, old)
    assert (first.rows_loaded, again.rows_loaded, again.rows_duplicate, again.rows_replaced) == (2, 0, 2, 0)
    assert [s for _, s in _sessions(wh)] == ["sess-77", "sess-77"]


def test_a_later_export_with_sessions_fills_them_in(wh, tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join(json.dumps(d) for d in _helicone_api(False)) + "\n")
    new = tmp_path / "new.jsonl"
    new.write_text("\n".join(json.dumps(d) for d in _helicone_api(True)) + "\n")
    _one(wh, old)
    assert [s for _, s in _sessions(wh)] == [None, None]
    again = _one(wh, new)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_replaced) == (0, 2, 0)
    assert [s for _, s in _sessions(wh)] == ["sess-77", "sess-77"]
    assert wh.sql("select count(*) from usage_raw").item() == 2


def test_canonical_session_column_and_statement_reload_without_it(wh, tmp_path):
    header = "ts,provider,model,input_tokens,cache_read_tokens,output_tokens,cost_usd"
    lines = ["2026-03-01T10:00:00Z,openai,gpt-4o,100,900,10,0.001", "2026-03-01T10:01:00Z,openai,gpt-4o,100,900,10,0.001"]
    with_s = tmp_path / "with.csv"
    with_s.write_text(header + ",session_id\n" + "\n".join(f"{l},c-1" for l in lines) + "\n")
    without = tmp_path / "without.csv"
    without.write_text(header + "\n" + "\n".join(lines) + "\n")
    assert _one(wh, with_s).rows_loaded == 2
    again = _one(wh, without)
    # a statement of the same day and scope with the same content: already loaded, nothing replaced (the file's
    # last request row, a point in time, is inside its own window: it was not, and the reload doubled it)
    assert (again.rows_loaded, again.rows_replaced) == (0, 0)
    assert wh.sql("select count(*) from usage_raw").item() == 2
    assert [s for _, s in _sessions(wh)] == ["c-1", "c-1"]


def test_a_canonical_reload_with_sessions_fills_them_in(wh, tmp_path):
    """A canonical file (no request ids: a statement, keyed by its load) loaded without session ids, then again with
    a session_id column: the same content, so already loaded and nothing replaced, and the reload's ids fill the
    rows in (writes/fill_statement_session_ids.sql). Identical lines pair by occurrence: two identical requests
    with two ids get one each; a ledger row that already has an id keeps it."""
    header = "ts,provider,model,input_tokens,output_tokens,cost_usd"
    lines = ["2026-03-01T10:00:00Z,openai,gpt-4o,100,10,0.001", "2026-03-01T10:00:00Z,openai,gpt-4o,100,10,0.001",
             "2026-03-01T10:05:00Z,openai,gpt-4o,300,30,0.003"]
    without = tmp_path / "without.csv"
    without.write_text(header + "\n" + "\n".join(lines) + "\n")
    with_s = tmp_path / "with.csv"
    with_s.write_text(header + ",session_id\n" + "\n".join(f"{l},{s}" for l, s in zip(lines, ("c-2", "c-1", ""),
                                                                                     strict=True)) + "\n")
    assert _one(wh, without).rows_loaded == 3
    assert [s for _, s in _sessions(wh)] == [None, None, None]
    again = _one(wh, with_s)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_replaced) == (0, 3, 0)
    assert wh.sql("select count(*) from usage_raw").item() == 3
    assert sorted(s or "" for _, s in _sessions(wh)) == ["", "c-1", "c-2"]          # the line without one: none
    assert [s for _, s in _sessions(wh)][2] is None


def test_a_restated_request_without_a_session_id_keeps_the_older_one(wh, tmp_path):
    """A newer export restates both requests (other cost: the newest load wins) but logs no session id: the
    replacing rows keep the id the older export gave. A restating line that carries its own id keeps its own."""
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join(json.dumps(d) for d in _helicone_api(True)) + "\n")
    restated = _helicone_api(False)
    restated[0]["cost"] = 0.002
    restated[1] = {**restated[1], "cost": 0.003,
                   "request_properties": {**restated[1]["request_properties"], "Helicone-Session-Id": "sess-88"}}
    new = tmp_path / "new.jsonl"
    new.write_text("\n".join(json.dumps(d) for d in restated) + "\n")
    _one(wh, old)
    again = _one(wh, new)
    assert (again.rows_loaded, again.rows_replaced) == (2, 2)
    assert wh.sql("select cast(cost_usd as double), session_id from usage_raw order by ts").rows() == [
        (pytest.approx(0.002), "sess-77"), (pytest.approx(0.003), "sess-88")]
    assert wh.sql("select count(*) from usage_raw").item() == 2
