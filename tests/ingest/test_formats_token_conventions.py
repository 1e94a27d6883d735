"""Token conventions (issue 12 item 7, adapter side): where a source reports thinking apart from output, output
tokens include it (it is billed at the output rate) and reasoning tokens hold it. OpenRouter: a generation whose
reasoning exceeds its completion (Gemini's native counts leave thoughts out) gets completion + reasoning; an
OpenAI-style row whose completion already includes its reasoning is kept as it is. Fixture: an OpenRouter
per-generation export in the real header, our values."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import ingest_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
GENERATIONS = DATA / "openrouter_generations_reasoning_2026-10-02.csv"


def test_openrouter_reasoning_beside_completion_is_added_to_output(wh):
    [r] = ingest_paths(wh, [GENERATIONS])
    assert (r.format, r.rows_loaded, r.rows_rejected) == ("openrouter-generations-csv", 3, 1)
    # the bad row is named by its own column, not by the computed output
    assert f"{GENERATIONS} row 4, column tokens_completion: not a number ('ten')" in r.error
    rows = wh.sql("select model, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens "
                  "from usage_raw order by ts").rows()
    assert rows == [
        ("google/gemini-2.5-flash", 3120, 0, 96 + 1408, 1408),        # thinking apart: added
        ("openai/o4-mini", 5400 - 1024, 1024, 1900, 640),             # reasoning inside completion: kept
        ("anthropic/claude-haiku-4.5", 1400, 0, 210, 0),
    ]
    assert wh.sql("select count(*) from usage_raw where reasoning_tokens > output_tokens").item() == 0


def test_openrouter_generation_json_and_activity_follow_the_same_rule(wh, tmp_path):
    doc = {"data": {"id": "gen-1790931800-AcBe5fU6gV7hW8iX9j", "total_cost": 0.0031, "created_at":
                    "2026-10-02T09:03:20.000000+00:00", "model": "google/gemini-2.5-pro", "app_id": 7,
                    "native_tokens_prompt": 2000, "native_tokens_completion": 150, "native_tokens_reasoning": 900,
                    "native_tokens_cached": 0, "api_type": "completions"}}
    js = tmp_path / "gen.jsonl"
    js.write_text(json.dumps(doc) + "\n")
    act = tmp_path / "activity.csv"
    act.write_text('"Date","Slug","Usage","BYOK Usage","Requests","Prompt Tokens","Completion Tokens",'
                   '"Reasoning Tokens"\n"2026-10-02 00:00:00","google/gemini-2.5-flash","0.52","0","40","90000",'
                   '"2000","30000"\n"2026-10-02 00:00:00","openai/o4-mini","1.10","0","12","40000","25000",'
                   '"9000"\n')
    results = ingest_paths(wh, [js, act])
    assert [(x.format, x.rows_loaded, x.rows_rejected) for x in results] == [
        ("openrouter-generation-json", 1, 0), ("openrouter-activity-csv", 2, 0)]
    rows = wh.sql("select model, output_tokens, reasoning_tokens from usage_raw order by model").rows()
    assert rows == [("google/gemini-2.5-flash", 32_000, 30_000), ("google/gemini-2.5-pro", 1_050, 900),
                    ("openai/o4-mini", 25_000, 9_000)]
