"""Every dollar accounted for (issue 12): each pattern seen in real exports loads with the right total and a
conservation line per file, and `modelmix verify`'s checks pass on every ledger built here.

Fixtures are written in each provider's real layout (docs/formats.md) with our own values: a Claude Console cost
export whose lines repeat the same day/model/key/token type, daily and hourly exports of one day, an OpenAI
export whose last bucket ends 23:59:59, a LiteLLM spend log that restates a request, FOCUS part files."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import ingest_paths
from warehouse import checks

CONSOLE_COST = ("usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,"
                "cost_type,inference_geo,speed,api_key_id,api_key_status")


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def spend(wh, first: str | None = None, last: str | None = None) -> Decimal:
    """Spend as every page defines it: usage_daily.spend_usd (billing where a billing source covers the day)."""
    value = wh.scalar("select sum(spend_usd) from usage_daily where ($a::date is null or day >= $a::date) "
                      "and ($b::date is null or day <= $b::date)", a=first, b=last)
    return Decimal(str(value or 0))


def ledger_cost(wh) -> Decimal:
    return Decimal(str(wh.scalar("select coalesce(sum(cost_usd), 0) from usage_raw")))


def assert_verified(wh):
    bad = [f"{r.name}:\n{r.bad}" for r in checks.run_all(wh) if not r.ok]
    assert not bad, "\n".join(bad)


def cost_line(day: str, token_type: str, cost: str, *, window: str = "≤ 200k", geo: str = "global", speed: str = "",
              cost_type: str = "token", model: str = "Claude Sonnet 4.5", key: str = "prod-backend") -> str:
    return (f"{day},{model},Default,{key},message,{window},{token_type},{cost},{cost},{cost_type},{geo},{speed},"
            f"apikey_01{key[:4]},active")


# --- 1. repeated key lines of a Claude Console cost export are separate charges --------------------------------

def test_console_cost_lines_with_the_same_key_all_count(wh, tmp_path):
    rows = [
        cost_line("2026-08-15", "input_no_cache", "12.40"),
        cost_line("2026-08-15", "input_no_cache", "3.10", window="> 200k"),     # differs only in context window
        cost_line("2026-08-15", "input_no_cache", "1.25", geo="us"),            # ... only in inference geo
        cost_line("2026-08-15", "input_no_cache", "0.80", speed="fast"),        # ... only in speed
        cost_line("2026-08-15", "input_cache_write_5m", "0.42"),
        cost_line("2026-08-15", "input_cache_write_5m", "0.42"),                # not at all: two charges
        cost_line("2026-08-15", "web_search", "0.50", cost_type="web_search"),  # ... only in cost type
        cost_line("2026-08-16", "output", "7.05"),
    ]
    path = write(tmp_path / "claude_api_cost_2026_08.csv", CONSOLE_COST, rows)
    [r] = ingest_paths(wh, [path])
    assert (r.status, r.rows_loaded, r.rows_duplicate, r.rows_rejected) == ("loaded", 8, 0, 0)
    assert r.conservation == "file $25.94 → loaded $25.94"
    assert spend(wh) == Decimal("25.94")
    again = ingest_paths(wh, [path])[0]
    assert (again.status, again.rows_loaded) == ("duplicate", 0)
    assert "already in the ledger $25.94" in again.conservation
    assert spend(wh) == Decimal("25.94")
    assert_verified(wh)


# --- 2. a later export of the same window replaces it, whatever its grain -------------------------------------

def test_later_console_export_replaces_the_days_it_covers(wh, tmp_path):
    early = write(tmp_path / "claude_api_cost_2026_08a.csv", CONSOLE_COST,
                  [cost_line(f"2026-08-{d:02d}", "output", "1.00") for d in range(1, 21)])        # 1-20: $20
    late = write(tmp_path / "claude_api_cost_2026_08b.csv", CONSOLE_COST,
                 [cost_line(f"2026-08-{d:02d}", "output", "2.00") for d in range(10, 32)])       # 10-31: $44
    first = ingest_paths(wh, [early])[0]
    second = ingest_paths(wh, [late])[0]
    assert first.status == second.status == "loaded"
    # days 1-9 of the first export stay, 10-20 are restated by the second
    assert spend(wh) == Decimal("9.00") + Decimal("44.00")
    [rep] = second.replaced
    assert (rep["kind"], rep["days"], rep["rows"], rep["cost_usd"]) == ("window", 11, 11, 11.0)
    assert "replaced 11 row(s) over 11 day(s) of claude_api_cost_2026_08a.csv: −$11.00" in second.conservation
    assert_verified(wh)
    # the first file loaded again is now the newest: its days win back (not answered from its checksum)
    third = ingest_paths(wh, [early])[0]
    assert third.status == "loaded"
    assert spend(wh) == Decimal("20.00") + Decimal("22.00")
    assert_verified(wh)


def test_unchanged_days_of_a_rolling_export_add_nothing(wh, tmp_path):
    first = write(tmp_path / "a.csv", CONSOLE_COST, [cost_line(f"2026-08-{d:02d}", "output", "1.10")
                                                     for d in range(1, 11)])
    rolled = write(tmp_path / "b.csv", CONSOLE_COST, [cost_line(f"2026-08-{d:02d}", "output", "1.10")
                                                      for d in range(5, 16)])
    ingest_paths(wh, [first])
    [r] = ingest_paths(wh, [rolled])
    assert (r.rows_loaded, r.rows_duplicate, r.rows_replaced) == (5, 6, 0)
    assert spend(wh) == Decimal("16.50")
    assert_verified(wh)


USAGE_HEADER = ("usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,"
                "usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,"
                "usage_output_tokens,web_search_count,inference_geo,speed")


def usage_line(when: str, input_tokens: int, output_tokens: int) -> str:
    return f"{when},claude-sonnet-4-5-20250929,finance-copilot,Finance,standard,≤ 200k,{input_tokens},0,0,0,{output_tokens},0,global,"


def test_hourly_export_of_a_day_replaces_that_day_of_a_daily_export(wh, tmp_path):
    daily = write(tmp_path / "usage_daily_2026-07.csv", USAGE_HEADER,
                  [usage_line(f"2026-07-{d:02d}", 100_000, 10_000) for d in range(1, 32)])
    hourly = write(tmp_path / "usage_hourly_2026-07-05.csv", USAGE_HEADER,
                   [usage_line(f"2026-07-05 {h:02d}:00:00", 25_000, 2_500) for h in (3, 9, 15, 21)])
    ingest_paths(wh, [daily])
    day5 = spend(wh, "2026-07-05", "2026-07-05")
    total = spend(wh)
    [r] = ingest_paths(wh, [hourly])
    assert r.status == "loaded" and r.rows_replaced == 1
    tokens = wh.sql("select day, sum(input_tokens) as i from usage_daily group by day order by day").rows()
    assert dict(tokens)[__import__("datetime").date(2026, 7, 5)] == 100_000     # once, not twice
    assert len(tokens) == 31
    assert spend(wh, "2026-07-05", "2026-07-05") == day5 and spend(wh) == total
    assert set(wh.sql("select distinct granularity from usage_raw where ts::date = '2026-07-05'")
               .to_series().to_list()) == {"hour"}
    # and the other way round: the daily export loaded again replaces the hours
    ingest_paths(wh, [daily])[0]
    assert wh.scalar("select count(*) from usage_raw") == 31
    assert_verified(wh)


# --- 3. valid rows are kept; plausibility problems are named warnings ------------------------------------------

OPENAI_USAGE = ("start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,"
                "model,batch,service_tier,input_tokens,output_tokens,input_cached_tokens")


def test_openai_export_last_bucket_ending_235959_and_unknown_tier_are_kept(wh, tmp_path):
    day = 86_400
    start = 1_790_812_800   # 2026-10-01 00:00 UTC
    rows = [f"{start + i * day},{start + (i + 1) * day},,,proj_a,10.0,,,gpt-4o-mini-2024-07-18,False,default,"
            f"100000.0,5000.0,0.0" for i in range(2)]
    rows.append(f"{start + 2 * day},{start + 3 * day - 1},,,proj_a,10.0,,,gpt-4o-mini-2024-07-18,False,default,"
                "100000.0,5000.0,0.0")                                             # ends 23:59:59
    rows.append(f"{start + 2 * day},{start + 3 * day - 1},,,proj_a,4.0,,,gpt-4o-mini-2024-07-18,False,"
                "incentivized-tier,40000.0,2000.0,0.0")                            # a tier we do not know
    [r] = ingest_paths(wh, [write(tmp_path / "completions_usage_2026-10-01_2026-10-03.csv", OPENAI_USAGE, rows)])
    assert (r.status, r.rows_loaded, r.rows_rejected, r.rows_warned) == ("loaded", 4, 0, 1)
    got = wh.sql("select granularity, service_tier, count(*) as n from usage_raw group by all order by all").rows()
    assert got == [("day", "incentivized-tier", 1), ("day", "standard", 3)]
    [(column, value, warning)] = wh.sql("select column_name, value, warning from ingest_warnings").rows()
    assert (column, value) == ("service_tier", "incentivized-tier") and "kept as written" in warning
    assert_verified(wh)


OPENROUTER = ("generation_id,created_at,cost_total,cost_web_search,cost_cache,cost_file_processing,byok_usage_inference,"
              "tokens_prompt,tokens_completion,tokens_reasoning,tokens_cached,model_permaslug,provider_name,variant,"
              "cancelled,streamed,user,finish_reason_raw,finish_reason_normalized,generation_time_ms,"
              "time_to_first_token_ms,api_key_disabled,api_key_name,app_name")


def test_more_reasoning_than_output_is_kept_with_a_warning(wh, tmp_path):
    # OpenRouter: a row reporting more reasoning than completion left the thinking out of the completion; the
    # adapter adds it (thinking is billed as output, docs/formats.md "Token conventions"): no warning, no reject
    rows = [f"gen-{i},2026-09-12 08:0{i}:00.000,0.0123,0,0,0,0,1000,{c},{rz},0,openai/gpt-oss-120b,DeepInfra,,false,"
            "true,,stop,stop,1840,412,false,prod,app" for i, (c, rz) in enumerate([(137, 40), (12, 300), (50, 0)])]
    [r] = ingest_paths(wh, [write(tmp_path / "openrouter_generations.csv", OPENROUTER, rows)])
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)
    assert ledger_cost(wh) == Decimal("0.0369")
    assert wh.scalar("select output_tokens from usage_raw where reasoning_tokens = 300") == 312
    # a source that states its output as already including reasoning (canonical) and says less: kept, warned
    canon = write(tmp_path / "canon.csv", "ts,provider,model,input_tokens,output_tokens,reasoning_tokens,cost_usd",
                  ["2026-09-13T08:00:00Z,openai,o4-mini,1000,12,300,0.01"])
    [c] = ingest_paths(wh, [canon])
    assert (c.status, c.rows_loaded, c.rows_rejected) == ("loaded", 1, 0)
    assert c.rows_warned >= 1
    assert wh.scalar("select count(*) from ingest_warnings where warning like 'more than output_tokens%'") == 1
    assert_verified(wh)


# --- 4. money at full precision; a restated request: the newest value wins ------------------------------------

LITELLM = "request_id,call_type,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,custom_llm_provider,status"


def litellm_row(i: int, spend_usd: str, *, minute: int = 0) -> str:
    return (f"req-{i:06d},acompletion,{spend_usd},3,2,1,2026-10-01 10:{minute:02d}:00.000,2026-10-01 10:{minute:02d}:01.000,"
            "gpt-4o-mini,openai,success")


def test_half_micro_dollar_spends_are_not_rounded(wh, tmp_path):
    rows = [litellm_row(i, "4.5E-7") for i in range(1000)] + [litellm_row(1000, "0.0000003")]
    [r] = ingest_paths(wh, [write(tmp_path / "spend_logs.csv", LITELLM, rows)])
    assert r.rows_loaded == 1001
    # rounded half up to 6 places each row would have been 1000 x $0.000001 + $0 = $0.001
    assert ledger_cost(wh) == Decimal("0.0004503")
    assert_verified(wh)


def test_restated_request_newest_value_wins_and_is_reported(wh, tmp_path):
    ingest_paths(wh, [write(tmp_path / "spend_logs_1.csv", LITELLM, [litellm_row(1, "0.010"), litellm_row(2, "0.020")])])
    [r] = ingest_paths(wh, [write(tmp_path / "spend_logs_2.csv", LITELLM,
                                  [litellm_row(2, "0.025"), litellm_row(3, "0.030")])])
    assert (r.rows_loaded, r.rows_duplicate, r.rows_replaced) == (2, 0, 1)
    assert ledger_cost(wh) == Decimal("0.065")
    [rep] = r.replaced
    assert (rep["kind"], rep["rows"], rep["cost_usd"]) == ("restated", 1, 0.02)
    assert "replaced 1 restated request(s) of spend_logs_1.csv: −$0.02" in r.conservation
    detail = wh.sql("select detail from audit_log where action = 'ingest' order by id desc limit 1").item()
    assert "restated" in str(detail)
    # a later line of the same file with the same id supersedes the earlier one (named, with its dollars)
    [s] = ingest_paths(wh, [write(tmp_path / "spend_logs_3.csv", LITELLM,
                                  [litellm_row(4, "0.5"), litellm_row(4, "0.7")])])
    assert (s.rows_loaded, s.rows_duplicate) == (1, 1)
    assert "superseded by a later line of the file $0.50" in s.conservation
    assert ledger_cost(wh) == Decimal("0.765")
    assert_verified(wh)


def test_restated_request_is_found_within_a_day_of_the_files_window(wh, tmp_path):
    """The ledger is searched for a file's ids only in the file's window, one day either side (bound as values so
    usage_raw's zone maps skip the rest; writes/known_requests.sql): a request restated with a time up to a day
    outside the new file's own rows is still found and replaced, never counted twice."""
    def row(rid: str, cost: str, at: str) -> str:
        return f"{rid},acompletion,{cost},3,2,1,{at}.000,{at}.500,gpt-4o-mini,openai,success"

    ingest_paths(wh, [write(tmp_path / "day1.csv", LITELLM, [row("req-a", "0.010", "2026-10-01 10:00:00"),
                                                              row("req-b", "0.020", "2026-10-01 23:00:00"),
                                                              row("req-far", "0.040", "2026-09-01 12:00:00")])])
    # the next export restates req-a 23 h later than it was logged and req-b 3 days later than it was (the
    # file's own rows run 2 Oct 09:00 .. 4 Oct 22:00): both are inside the window, one day either side
    [r] = ingest_paths(wh, [write(tmp_path / "day2.csv", LITELLM, [row("req-a", "0.015", "2026-10-02 09:00:00"),
                                                                    row("req-c", "0.100", "2026-10-03 12:00:00"),
                                                                    row("req-b", "0.025", "2026-10-04 22:00:00")])])
    assert (r.rows_loaded, r.rows_duplicate, r.rows_replaced) == (3, 0, 2)
    assert ledger_cost(wh) == Decimal("0.180")          # 0.015 + 0.100 + 0.025 + req-far's 0.040
    assert wh.scalar("select count(*) from usage_raw") == 4
    assert spend(wh, "2026-10-01", "2026-10-01") == 0      # day 1's rows moved with their restatement
    assert spend(wh, "2026-09-01", "2026-09-01") == Decimal("0.04")  # outside the window: untouched
    assert_verified(wh)


# --- 5. split billing exports: part files loaded together are one statement -----------------------------------

FOCUS = ("BilledCost,BillingAccountId,BillingCurrency,ChargeCategory,ChargeDescription,ChargePeriodEnd,ChargePeriodStart,"
         "ConsumedQuantity,ConsumedUnit,EffectiveCost,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,"
         "ServiceCategory,ServiceName,SkuId,SkuMeter,SubAccountId")


def focus_row(day: int, cost: str, meter: str = "claude-sonnet-4-5/input") -> str:
    return (f"{cost},RSL-1,USD,Usage,input tokens for claude-sonnet-4-5,2026-10-{day + 1:02d}T00:00:00Z,"
            f"2026-10-{day:02d}T00:00:00Z,1000000,Tokens,{cost},{cost},1000,1000 Tokens,Amazon Web Services,Anthropic,"
            f"AI and Machine Learning,Amazon Bedrock,SKU-1,{meter},nw-prod")


def test_focus_part_files_with_an_identical_row_both_count(wh, tmp_path):
    folder = tmp_path / "focus_2026-10"
    folder.mkdir()
    write(folder / "part_0_0001.csv", FOCUS, [focus_row(1, "3.000000"), focus_row(2, "4.000000")])
    write(folder / "part_1_0001.csv", FOCUS, [focus_row(1, "3.000000"), focus_row(2, "1.500000")])
    results = ingest_paths(wh, [folder])
    assert [(r.status, r.rows_loaded, r.rows_replaced) for r in results] == [("loaded", 2, 0), ("loaded", 2, 0)]
    assert ledger_cost(wh) == Decimal("11.5")
    assert_verified(wh)


# --- 6. the property: overlapping request logs and daily/hourly exports in any order give the truth ----------

CANONICAL = "ts,granularity,provider,model,project,requests,input_tokens,output_tokens,cost_usd"


def _truth(rng: random.Random, days: int) -> list[tuple[int, int, str, int, int, Decimal]]:
    """Requests: (day, hour, project, input, output, cost) with costs to the nano-dollar."""
    out = []
    for day in range(1, days + 1):
        for _ in range(rng.randint(1, 6)):
            cost = Decimal(rng.randint(1, 5_000_000_000)) / Decimal(10**9)
            out.append((day, rng.randint(0, 23), rng.choice(["alpha", "beta"]), rng.randint(1, 5000),
                        rng.randint(1, 800), cost))
    return out


def _export(path: Path, requests, first: int, last: int, grain: str) -> Path:
    """What the provider's export of days first..last at one grain would say: the requests summed per bucket."""
    buckets: dict[tuple, list] = {}
    for day, hour, project, inp, out, cost in requests:
        if first <= day <= last:
            key = (day, hour if grain == "hour" else 0, project)
            b = buckets.setdefault(key, [0, 0, 0, Decimal(0)])
            b[0] += 1
            b[1] += inp
            b[2] += out
            b[3] += cost
    rows = [f"2026-03-{d:02d} {h:02d}:00:00,{grain},openai,gpt-4o-mini,{p},{n},{i},{o},{c}"
            for (d, h, p), (n, i, o, c) in sorted(buckets.items())]
    return write(path, CANONICAL, rows)


def _request_log(path: Path, requests, first: int, last: int) -> Path:
    rows = [f"req-{n},acompletion,{cost},{inp + out},{inp},{out},2026-03-{day:02d} {hour:02d}:{n % 60:02d}:00.000,"
            f"2026-03-{day:02d} {hour:02d}:{n % 60:02d}:01.000,gpt-4o-mini,openai,success"
            for n, (day, hour, _p, inp, out, cost) in enumerate(requests) if first <= day <= last]
    return write(path, LITELLM, rows)


def _windows(rng: random.Random, days: int) -> list[tuple[int, int]]:
    """Overlapping windows whose union is every day."""
    out, start = [], 1
    while start <= days:
        end = min(days, start + rng.randint(2, 8))
        out.append((max(1, start - rng.randint(0, 3)), end))
        start = end + 1
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_overlapping_exports_in_random_order_give_the_truth(wh, tmp_path, seed):
    rng = random.Random(seed)
    days = 20
    requests = _truth(rng, days)
    files = []
    for n, (a, b) in enumerate(_windows(rng, days)):
        files.append(_request_log(tmp_path / f"spend_logs_{n}.csv", requests, a, b))
    for n, (a, b) in enumerate(_windows(rng, days)):
        files.append(_export(tmp_path / f"usage_{n}_day.csv", requests, a, b, "day"))
    for n, (a, b) in enumerate(_windows(rng, days)):
        files.append(_export(tmp_path / f"usage_{n}_hour.csv", requests, a, b, "hour"))
    rng.shuffle(files)
    for path in files:                     # one file at a time, like uploads over a month
        [r] = ingest_paths(wh, [path])
        assert r.status in ("loaded", "duplicate"), r.error
    truth = sum((c for *_, c in requests), Decimal(0))
    assert spend(wh).quantize(Decimal("0.01")) == truth.quantize(Decimal("0.01"))
    assert abs(spend(wh) - truth) < Decimal("1e-9")
    # each source alone holds the truth once: no day counted twice within a format
    per_format = dict(wh.sql("select source_format, sum(cost_usd) from usage_raw group by all").rows())
    assert all(abs(Decimal(str(v)) - truth) < Decimal("1e-9") for v in per_format.values()), per_format
    assert_verified(wh)


# --- 7. `modelmix verify`: every check, exit 1 on a violation ---------------------------------------------------

@pytest.mark.slow
def test_verify_passes_then_names_a_lost_row(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from warehouse import Warehouse

    db = tmp_path / "l.duckdb"
    with Warehouse(db) as w:
        ingest_paths(w, [write(tmp_path / "claude_api_cost_2026_08.csv", CONSOLE_COST,
                               [cost_line("2026-08-15", "output", "4.00"), cost_line("2026-08-16", "output", "6.00")])])

    def verify() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "modelmix", "verify", "--db", str(db), "--json"],
                              capture_output=True, text=True, timeout=120, env=os.environ.copy())

    ok = verify()
    assert ok.returncode == 0, ok.stderr
    checks_run = json.loads(ok.stdout)["checks"]
    assert {c["name"] for c in checks_run} >= {"checks/assert_ingest_conservation", "checks/assert_row_keys_unique"}
    assert all(c["ok"] for c in checks_run)
    with Warehouse(db) as w:        # a dollar lost behind ingest's back
        w.write(lambda cur: cur.execute("delete from usage_raw where ts = timestamp '2026-08-16'"))
    bad = verify()
    assert bad.returncode == 1
    failed = {c["name"]: c for c in json.loads(bad.stdout)["checks"] if not c["ok"]}
    assert "checks/assert_ingest_conservation" in failed
    assert any(r["measure"] == "cost_usd" for r in failed["checks/assert_ingest_conservation"]["rows"])
