"""One small ledger for the "one spend" tests (issue 12): a provider's bill and a gateway's request log that
overlap on some days, days with no request-level data, a credit line, and a provider billed by nobody but the
gateway. Seeded, in real export layouts; every figure a test needs is computed here from the files, not from
the ledger.

March 2026, every day:
- OpenAI's dashboard Cost export (`openai-cost-csv`, billing, money only): gpt-4o input and output lines for ALL
  OpenAI traffic (the gateway's and the direct callers'), billed 10% under list; a -$25.00 credit line on the 15th.
- A LiteLLM spend-log export (`litellm-spend-logs`, telemetry, one row per request, LiteLLM's cost at list):
  OpenAI gpt-4o requests only on the 10th to the 20th (and only the gateway's share of the traffic), and
  Anthropic claude-sonnet-4-5 requests on every day (no Anthropic bill is loaded).
So on OpenAI's 10th-20th the bill counts for spend and the replay reads the request log; on OpenAI's other days
the replay has no request-level data and reads the bill's lines; Anthropic's spend is the log's cost.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

FIRST, LAST = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
LOGGED_OPENAI = (dt.date(2026, 3, 10), dt.date(2026, 3, 20))     # the gateway's OpenAI log covers these days
CREDIT_DAY, CREDIT_USD = dt.date(2026, 3, 15), Decimal("-25.00")
GPT4O = (Decimal("2.5"), Decimal("10"))                          # list USD per 1M tokens (input, output)
SONNET = (Decimal("3"), Decimal("15"))
BILLED_SHARE = Decimal("0.9")


def _days():
    d = FIRST
    while d <= LAST:
        yield d
        d += dt.timedelta(days=1)


def _cost(prices: tuple[Decimal, Decimal], tin: int, tout: int) -> Decimal:
    return (tin * prices[0] + tout * prices[1]) / Decimal(1_000_000)


def write(folder: Path, seed: int = 12) -> dict:
    """Write the two export files into `folder`; return their paths and the true totals."""
    rng = random.Random(seed)
    log_rows, cost_rows = [], []
    truth = {"bill_usd": Decimal(0), "log_openai_usd": Decimal(0), "log_anthropic_usd": Decimal(0),
             "bill_on_logged_days_usd": Decimal(0)}
    n = 0
    for day in _days():
        logged = LOGGED_OPENAI[0] <= day <= LOGGED_OPENAI[1]
        # the gateway's OpenAI requests (logged only on some days) and the direct callers' (never logged)
        openai_in = openai_out = 0
        for _ in range(rng.randint(20, 30)):
            tin, tout = rng.randint(20_000, 120_000), rng.randint(1_000, 9_000)
            openai_in, openai_out = openai_in + tin, openai_out + tout
            if logged:
                n += 1
                cost = _cost(GPT4O, tin, tout)
                truth["log_openai_usd"] += cost
                log_rows.append(_log_row(n, day, rng, "openai", "gpt-4o", tin, tout, cost, "product"))
        openai_in += rng.randint(2_000_000, 6_000_000)       # direct traffic: in the bill, not in the gateway's log
        openai_out += rng.randint(500_000, 1_500_000)
        day_bill = Decimal(0)
        for item, tokens, price in (("input", openai_in, GPT4O[0]), ("output", openai_out, GPT4O[1])):
            amount = (tokens * price / Decimal(1_000_000) * BILLED_SHARE).quantize(Decimal("0.000001"))
            day_bill += amount
            cost_rows.append(_cost_row(day, f"gpt-4o-2024-08-06, {item}", amount, tokens))
        if day == CREDIT_DAY:
            day_bill += CREDIT_USD
            cost_rows.append(_cost_row(day, "Credit grant", CREDIT_USD, 0))
        truth["bill_usd"] += day_bill
        if logged:
            truth["bill_on_logged_days_usd"] += day_bill
        for _ in range(rng.randint(10, 16)):
            n += 1
            tin, tout = rng.randint(10_000, 60_000), rng.randint(1_000, 12_000)
            cost = _cost(SONNET, tin, tout)
            truth["log_anthropic_usd"] += cost
            log_rows.append(_log_row(n, day, rng, "anthropic", "claude-sonnet-4-5", tin, tout, cost, "engineering"))
    cost_csv = folder / "cost_2026-03-01_2026-04-01.csv"
    with cost_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["start_time", "end_time", "amount_value", "amount_currency", "quantity", "quantity_unit",
                    "line_item", "project_id", "organization_id"])
        w.writerows(cost_rows)
    log_csv = folder / "litellm_spend_logs_2026-03.csv"
    with log_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["request_id", "call_type", "spend", "prompt_tokens", "completion_tokens", "startTime", "endTime",
                    "model", "custom_llm_provider", "metadata", "status"])
        w.writerows(log_rows)
    spend = truth["bill_usd"] + truth["log_anthropic_usd"]
    return {
        "files": [cost_csv, log_csv],
        "spend_usd": spend,
        # the replay reads the log on OpenAI's logged days, the bill's lines on the others
        "replay_baseline_usd": spend - truth["bill_on_logged_days_usd"] + truth["log_openai_usd"],
        **truth,
    }


def _epoch(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


def _cost_row(day: dt.date, item: str, amount: Decimal, tokens: int) -> list:
    return [_epoch(day), _epoch(day + dt.timedelta(days=1)), f"{amount:f}", "usd", f"{tokens}.0", "tokens", item,
            "proj_Assist01", "org-Test01"]


def _log_row(n: int, day: dt.date, rng: random.Random, provider: str, model: str, tin: int, tout: int,
             cost: Decimal, team: str) -> list:
    t = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randint(0, 86_000))
    meta = json.dumps({"user_api_key_alias": f"{team}-key", "user_api_key_team_alias": team,
                       "spend_logs_metadata": {"project": f"{team}-app"}})
    return [f"req-{n:06d}", "acompletion", f"{cost:f}", tin, tout, f"{t:%Y-%m-%d %H:%M:%S}.000",
            f"{t + dt.timedelta(seconds=2):%Y-%m-%d %H:%M:%S}.000", model, provider, meta, "success"]
