"""Billing vs telemetry: where both cover a provider and day, spend counts one of them (billing first) and the
replay reads the most detailed one; the coverage query shows the overlap and the disagreement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ingest import ingest_paths

LITELLM = ("request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend",)
BILLING = "start_time,end_time,project_id,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens"


def test_billing_wins_spend_and_requests_win_replay(wh, csv_file):
    # the gateway saw two requests on 2026-10-01 and one on 10-02; OpenAI billed all of 10-01 (more traffic)
    ingest_paths(wh, [csv_file(LITELLM[0],
                               "r1,2026-10-01 10:00:00,gpt-4o-mini,openai,1000,100,0.01",
                               "r2,2026-10-01 11:00:00,gpt-4o-mini,openai,1000,100,0.01",
                               "r3,2026-10-02 11:00:00,gpt-4o-mini,openai,1000,100,0.01")])
    day = int(dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc).timestamp())
    [r] = ingest_paths(wh, [csv_file(BILLING, f"{day},{day + 86400},proj,gpt-4o-mini,3,3000,0,300")])
    assert r.format == "openai-usage-csv" and r.rows_loaded == 1
    spend = dict(wh.sql("select day::varchar, sum(spend_usd) from usage_daily group by 1").rows())
    # 10-01: billing only, priced from the catalog: 3000 x $0.15 + 300 x $0.60 per 1M tokens; 10-02: gateway only
    assert spend == {"2026-10-01": Decimal("0.000630"), "2026-10-02": Decimal("0.010000")}
    replay = wh.sql("select source_format, count(*) as n from usage_replay group by 1").rows()
    assert replay == [("litellm-spend-logs", 3)]
    cov = wh.query("coverage_by_provider_day", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 1))
    rows = {r["source_format"]: r for r in cov.to_dicts()}
    assert rows["openai-usage-csv"]["in_spend"] and not rows["openai-usage-csv"]["in_replay"]
    assert rows["litellm-spend-logs"]["in_replay"] and not rows["litellm-spend-logs"]["in_spend"]
    assert rows["litellm-spend-logs"]["sources_that_day"] == 2
    assert abs(rows["litellm-spend-logs"]["tokens_vs_counted"] - (2200 / 3300 - 1)) < 1e-9
