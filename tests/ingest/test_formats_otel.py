"""OpenTelemetry GenAI spans (`otel-genai-spans`): OTLP JSON as the Collector's file exporter writes it. Hand-checked
canonical rows from the fixture (typed attribute values, intValue as text, cache split, deprecated OpenLLMetry
names, span over resource attributes), skipped agent/tool/HTTP spans, dedupe on span id within a file and across
overlapping files, detection (plain, gzip, one pretty-printed request), service.name in attribution rules, and
rejects naming the attribute and the span's position."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

from ingest import formats, ingest_paths, read
from ingest.read import SourceFile
from warehouse import config

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "otel" / "otel_genai_spans_2026-11-14.jsonl"
COLS = ("ts, provider, model, model_raw, account, project, user_id, team, workload, operation, service_tier, "
        "requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _lines() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    return path


def test_fixture_rows_hand_checked(wh):
    r = _one(wh, FIXTURE)
    # 10 spans (one repeated by a retry): 6 model calls, the retry a duplicate; HTTP, agent, tool spans skipped
    assert (r.format, r.status, r.rows_loaded, r.rows_duplicate, r.rows_rejected) == (
        "otel-genai-spans", "loaded", 6, 1, 0)
    rows = wh.sql(f"select {COLS} from usage_raw order by ts").rows()
    assert rows == [
        # input 1200 includes the 1024 cache reads (semconv): 176 uncached; the response model (a dated
        # snapshot) before the request model; the usage view maps it to the catalog's gpt-4o-mini
        (datetime(2026, 11, 14, 9, 0, 0, 123456), "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18",
         "acme-prod",
         "support-bot", "u-17", "customer-support", None, "chat", "standard", 1, 176, 1024, 0, 85, 0, None),
        (datetime(2026, 11, 14, 9, 0, 1, 500000), "openai", "text-embedding-3-small", "text-embedding-3-small",
         "acme-prod", "support-bot", None, "customer-support", None, "embeddings", "standard", 1, 512, 0, 0, 0, 0,
         None),
        # OpenLLMetry's deprecated names: prompt 5000 = 1000 uncached + 3000 read + 1000 written; gen_ai.system
        (datetime(2026, 11, 14, 10, 15, 0, 200000), "anthropic", "claude-sonnet-4-5-20250929",
         "claude-sonnet-4-5-20250929", "123456789012", "research-agent", None, None, None, "chat", "standard", 1,
         1000, 3000, 1000, 400, 0, None),
        # input 200 < its 3000 cache reads: the instrumentation reported the uncached count, kept as is
        (datetime(2026, 11, 14, 10, 15, 7, 300000), "anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5",
         "123456789012", "research-agent", None, None, None, "chat", "standard", 1, 200, 3000, 0, 30, 0, None),
        # the span's own `team` wins over the resource's; reasoning is part of output
        (datetime(2026, 11, 14, 23, 59, 59, 999000), "google-vertex", "gemini-2.5-flash", "gemini-2.5-flash", None,
         "batch-summarizer", None, "search", "summarization", "chat", "standard", 1, 3000, 0, 0, 900, 600, None),
        (datetime(2026, 11, 15, 0, 0, 3), "openai", "o4-mini-2025-04-16", "o4-mini-2025-04-16", None,
         "batch-summarizer", "u-88", "data-platform", "summarization", "chat", "flex", 1, 800, 0, 0, 700, 512, None),
    ]
    # priced from the catalog like any gateway log: every model has a list price
    assert wh.sql("select count(*) from usage where list_cost_usd is null").item() == 0


def test_detected_plain_gzip_and_one_pretty_printed_request(tmp_path):
    lines = _lines()
    gz = tmp_path / "traces.json.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    pretty = tmp_path / "one_request.json"
    pretty.write_text(json.dumps(lines[2], indent=2))
    for path, compression in ((FIXTURE, "none"), (gz, "gzip"), (pretty, "none")):
        sample = read.sample(SourceFile(path, path.name, compression))
        assert formats.detect(sample).id == "otel-genai-spans", path
    # a trace file without any gen_ai attribute is not this format
    plain = copy.deepcopy(lines[0])
    plain["resourceSpans"][0]["scopeSpans"][0]["spans"] = [plain["resourceSpans"][0]["scopeSpans"][0]["spans"][1]]
    other = _write(tmp_path / "http_only.jsonl", [plain])
    assert formats.detect(read.sample(SourceFile(other, other.name, "none"))) is None


def test_gzip_and_pretty_load(wh, tmp_path):
    gz = tmp_path / "traces.jsonl.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert _one(wh, gz).rows_loaded == 6
    pretty = tmp_path / "one_request.json"
    pretty.write_text(json.dumps(_lines()[2], indent=2))
    # both spans of that request are already in the ledger: same span ids
    r = _one(wh, pretty)
    assert (r.status, r.rows_loaded, r.rows_duplicate) == ("loaded", 0, 2)


def test_overlapping_export_adds_only_new_spans(wh, tmp_path):
    _one(wh, FIXTURE)
    later = copy.deepcopy(_lines()[2])
    spans = later["resourceSpans"][0]["scopeSpans"][0]["spans"]
    new = copy.deepcopy(spans[1])
    new["spanId"] = "1111222233334444"
    new["startTimeUnixNano"] = str(int(new["startTimeUnixNano"]) + 60 * 10**9)
    spans.append(new)
    r = _one(wh, _write(tmp_path / "next.jsonl", [later]))
    assert (r.rows_loaded, r.rows_duplicate) == (1, 2)
    assert wh.sql("select count(*) from usage_raw").item() == 7


def test_service_name_is_usable_in_attribution_rules(wh, tmp_path):
    _one(wh, FIXTURE)
    rules = tmp_path / "rules.yaml"
    rules.write_text('rules:\n  - {field: project, pattern: "research-*", team: research, workload: agent}\n')
    config.replace_rules(wh, config.load_rules_file(rules))
    got = wh.sql("select project, team, workload, count(*) from usage group by all order by all").rows()
    assert got == [
        ("batch-summarizer", "data-platform", "summarization", 1), ("batch-summarizer", "search", "summarization", 1),
        ("research-agent", "research", "agent", 2), ("support-bot", "customer-support", "general", 2)]


def test_bad_value_rejected_naming_attribute_and_span(wh, tmp_path):
    lines = _lines()[:3]
    spans = lines[2]["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for a in spans[1]["attributes"]:
        if a["key"] == "gen_ai.usage.output_tokens":
            a["value"] = {"intValue": "seven hundred"}
    spans[0]["startTimeUnixNano"] = "yesterday"
    r = _one(wh, _write(tmp_path / "bad.jsonl", lines))
    assert (r.rows_loaded, r.rows_rejected) == (4, 2)
    rejects = wh.sql("select row_number, column_name, value, reason from ingest_rejects order by all").rows()
    # spans 8 and 9 of the file (agent, tool and HTTP spans count in the numbering)
    assert rejects == [(8, "startTimeUnixNano", "yesterday", "not a date/time"),
                       (9, "gen_ai.usage.output_tokens", "seven hundred", "not a number")]


@pytest.mark.parametrize("name,expected", [
    ("aws.bedrock", "aws-bedrock"), ("azure.ai.openai", "azure-openai"), ("az.ai.inference", "azure-openai"),
    ("gcp.gemini", "google-vertex"), ("mistral_ai", "mistral-ai"), ("x_ai", "x-ai"), ("OpenAI", "openai")])
def test_provider_names(wh, tmp_path, name, expected):
    line = copy.deepcopy(_lines()[0])
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for a in span["attributes"]:
        if a["key"] == "gen_ai.provider.name":
            a["value"] = {"stringValue": name}
    _one(wh, _write(tmp_path / "p.jsonl", [line]))
    assert wh.sql("select provider from usage_raw where model like 'gpt-4o-mini%'").rows() == [(expected,)]
