"""The whole AI bill (finance/whole_bill.py): seats and subscriptions spread per day beside token spend with cost
per active user; self-hosted inference costs turned into an effective $/1M tokens that prices the internal model in
every view, reconciles to its cost file, re-prices when more tokens of its period arrive, yields to a user override,
and gives a What-if target that simulate.run accepts. Hand-computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
import summary_tables

import simulate
from finance import whole_bill as wb
from ingest import ingest_paths
from test_cli import run
from warehouse import config
from warehouse.errors import ConfigError

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
HEADER = "ts,provider,model,team,user_id,input_tokens,output_tokens,cost_usd"


@pytest.fixture
def ledger(wh, tmp_path):
    """November: research runs 1M in + 0.5M out a day on the internal model (users u0-u2) and 10k+1k on gpt-4o
    billed $0.05 (users u0-u4)."""
    return _load(wh, tmp_path)


@pytest.fixture
def ledger_file(tmp_path):
    """The same ledger as a closed file, for a subprocess or a page to open."""
    from warehouse import Warehouse

    with Warehouse(tmp_path / "closed.duckdb") as w:
        _load(w, tmp_path)
    return tmp_path / "closed.duckdb"


def _load(wh, tmp_path):
    rows = [HEADER]
    for d in range(1, 31):
        rows.append(f"2026-11-{d:02d}T10:00:00Z,internal,llama-70b-selfhosted,research,u{d % 3},1000000,500000,")
        rows.append(f"2026-11-{d:02d}T11:00:00Z,openai,gpt-4o,research,u{d % 5},10000,1000,0.05")
    path = tmp_path / "usage.csv"
    path.write_text("\n".join(rows) + "\n")
    assert [r.status for r in ingest_paths(wh, [path])] == ["loaded"]
    return wh


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


SUBS = """subscriptions:
  - {vendor: OpenAI, product: ChatGPT Enterprise, team: research, seats: 10, price_per_seat_usd: 60, period: month, start: 2026-11}
  - {vendor: GitHub, product: Copilot Business, team: platform, seats: 5, price_per_seat_usd: 228, period: year, start: 2026-01-01, end: 2026-12-31}
  - {vendor: Anthropic, product: Claude Team, team: research, seats: 4, price_per_seat_usd: 30, period: month, start: 2026-11-16, end: 2026-11-30}
"""
SELF_HOSTED = """self_hosted:
  - {model: llama-70b-selfhosted, start: 2026-11, gpu_hours: 720, usd_per_gpu_hour: 2.5}
"""


def test_subscriptions_spread_per_day_beside_token_spend(ledger, tmp_path):
    assert wb.replace_subscriptions(ledger, wb.load_subscriptions_file(_write(tmp_path, "s.yaml", SUBS))) == 3
    daily = wb.subscription_daily(ledger, *NOV)
    # a monthly seat costs price / days of its month per day: 10 x $60 / 30 = $20 a day, $600 for November
    chatgpt = daily.filter(pl.col("product") == "ChatGPT Enterprise")
    assert chatgpt.height == 30 and chatgpt["cost_usd"].sum() == Decimal("600")
    # a yearly price is spread over the days of its year: 5 x $228 / 365 a day
    copilot = daily.filter(pl.col("product") == "Copilot Business")
    assert float(copilot["cost_usd"].sum()) == pytest.approx(5 * 228 / 365 * 30, abs=1e-4)
    # half a month of Claude Team: 15 days x 4 x $30 / 30
    assert daily.filter(pl.col("product") == "Claude Team")["cost_usd"].sum() == Decimal("60")
    bill = {r["team"]: r for r in wb.bill(ledger, *NOV).iter_rows(named=True)}
    research = bill["research"]
    # tokens: the internal model is unpriced until its cost file is loaded; gpt-4o billed 30 x $0.05
    assert research["token_usd"] == Decimal("1.5")
    assert research["seat_usd"] == Decimal("660")
    assert research["total_usd"] == Decimal("661.5")
    assert (research["seats"], research["active_users"]) == (14, 5)
    assert research["cost_per_active_user_usd"] == Decimal("132.3")
    # a team with seats but no usage naming users has no cost per active user
    assert bill["platform"]["active_users"] is None and bill["platform"]["cost_per_active_user_usd"] is None


def test_self_hosted_cost_prices_reconciles_and_reprices(ledger, tmp_path):
    assert ledger.sql("select count(*) from usage where provider = 'internal' and list_cost_usd is null").item() == 30
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", SELF_HOSTED)))
    # 720 GPU-hours x $2.50 = $1,800 over 30 x 1.5M = 45M tokens: $40 per 1M tokens
    [r] = wb.reconcile(ledger).iter_rows(named=True)
    assert (r["cost_usd"], r["tokens"], r["usd_per_mtok"]) == (Decimal("1800"), 45_000_000, Decimal("40"))
    assert (r["priced_usd"], r["residual_usd"], r["overridden"]) == (Decimal("1800"), Decimal("0"), False)
    # every view prices it: a day of 1.5M tokens is $60 of list cost, counted in spend
    assert ledger.sql("select distinct list_cost_usd from usage where provider = 'internal'").item() == Decimal("60")
    assert wb.bill(ledger, *NOV).row(0, named=True)["token_usd"] == Decimal("1801.5")
    # 1.5M more tokens in the period: $1,800 / 46.5M; the earlier days are re-priced too
    extra = _write(tmp_path, "more.csv", HEADER + "\n2026-11-30T12:00:00Z,internal,llama-70b-selfhosted,research,u9,"
                                                  "1500000,0,\n")
    ingest_paths(ledger, [extra])
    [r] = wb.reconcile(ledger).iter_rows(named=True)
    assert r["tokens"] == 46_500_000 and float(r["usd_per_mtok"]) == pytest.approx(1800 / 46.5)
    assert abs(r["residual_usd"]) <= Decimal("0.0001")
    first_day = ledger.sql("select list_cost_usd from usage_daily where provider = 'internal' "
                           "and day = '2026-11-01'").item()
    assert float(first_day) == pytest.approx(1.5 * 1800 / 46.5, abs=1e-5)


def test_a_write_recomputes_only_the_self_hosted_periods_it_touches(ledger, tmp_path):
    """refresh_self_hosted_rates on an ordinary write reads only the periods overlapping the written days: a
    period elsewhere is left as it is (here marked by hand to show it was not recomputed), the touched one equals
    what a full rebuild gives."""
    from warehouse import ledger as ledger_jobs

    periods = SELF_HOSTED + "  - {model: llama-70b-selfhosted, start: 2026-09, amount_usd: 500}\n"
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", periods)))
    rate = ("select cost_usd, tokens, usd_per_mtok from self_hosted_rates where model = 'llama-70b-selfhosted' "
            "and valid_from = $at")
    assert ledger.sql(rate, at=dt.datetime(2026, 9, 1)).row(0) == (Decimal("500"), 0, None)   # nothing logged
    ledger.write(lambda cur: cur.execute("update self_hosted_rates set tokens = -1 where valid_from = $at",
                                         {"at": dt.datetime(2026, 9, 1)}))
    extra = _write(tmp_path, "more.csv", HEADER + "\n2026-11-30T12:00:00Z,internal,llama-70b-selfhosted,research,"
                                                  "u9,1500000,0,\n")
    ingest_paths(ledger, [extra])
    november = ledger.sql(rate, at=dt.datetime(2026, 11, 1)).row(0)
    assert november[1] == 46_500_000                                           # the new tokens counted
    assert ledger.sql(rate, at=dt.datetime(2026, 9, 1)).row(0)[1] == -1          # September not recomputed
    ledger.write(ledger_jobs.refresh_derived)                                   # a full rebuild
    assert ledger.sql(rate, at=dt.datetime(2026, 11, 1)).row(0) == november    # the same November rate
    assert ledger.sql(rate, at=dt.datetime(2026, 9, 1)).row(0) == (Decimal("500"), 0, None)


def test_a_user_override_wins_and_the_target_replays(ledger, tmp_path):
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", SELF_HOSTED)))
    target = wb.target(ledger, "llama-70b-selfhosted")
    assert target["prices"] == {"input": 40.0, "output": 40.0, "cache_read": 40.0, "cache_write": 40.0}
    # What-if: move all gpt-4o traffic to the self-hosted model at its effective rate
    scenario = {"name": "to self-hosted", "period": {"start": "2026-11-01", "end": "2026-11-30"},
                "policies": [{"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 1.0, "to": target}]}
    result = simulate.run(ledger, simulate.parse_scenario(scenario))
    # 30 x 11k tokens x $40/M = $13.20 instead of the $1.50 billed: the internal model is dearer here
    assert result.baseline_cost_usd == pytest.approx(1800 + 1.5, abs=1e-6)
    assert result.scenario_cost_usd == pytest.approx(1800 + 30 * 11_000 * 40 / 1e6, abs=1e-6)
    overrides = _write(tmp_path, "o.yaml", "overrides:\n  - {provider: internal, model: llama-70b-selfhosted, "
                                           "effective_from: 2026-01-01, input_mtok: 10, output_mtok: 10}\n")
    config.replace_overrides(ledger, config.load_overrides_file(overrides))
    assert ledger.sql("select distinct list_cost_usd from usage where provider = 'internal'").item() == Decimal("15")
    assert wb.reconcile(ledger)["overridden"].to_list() == [True]


def test_every_self_hosted_model_is_a_target_at_its_period_rate(ledger, tmp_path):
    """`targets`: each self-hosted model with logged tokens, at the rate of the cost period holding the date (else
    its latest); a period without tokens has no rate and offers nothing. "Send the simplest 60% of gpt-4o to our
    self-hosted model" replays with it, hand-computed."""
    assert wb.targets(ledger) == []
    halves = _write(tmp_path, "sh.yaml", """self_hosted:
  - {model: llama-70b-selfhosted, start: 2026-11-01, end: 2026-11-15, amount_usd: 600}
  - {model: llama-70b-selfhosted, start: 2026-11-16, end: 2026-11-30, amount_usd: 1200}
  - {provider: lab, model: mistral-ft, start: 2026-10, amount_usd: 99}
""")
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(halves))
    # 15 days x 1.5M tokens = 22.5M tokens a half: $600 -> $26.67 per 1M, $1,200 -> $53.33; mistral-ft logged nothing
    first, second = 600 / 22.5, 1200 / 22.5
    assert [(t["provider"], t["model"]) for t in wb.targets(ledger)] == [("internal", "llama-70b-selfhosted")]
    for on, rate, start in ((dt.date(2026, 11, 5), first, dt.date(2026, 11, 1)),
                            (dt.date(2026, 11, 20), second, dt.date(2026, 11, 16)),
                            (None, second, dt.date(2026, 11, 16)),                  # latest
                            (dt.date(2026, 12, 5), second, dt.date(2026, 11, 16))):  # no period holds it: latest
        [t] = wb.targets(ledger, on)
        assert t["usd_per_mtok"] == pytest.approx(rate) and t["start_date"] == start, on
        assert t["to"]["prices"] == {c: pytest.approx(rate) for c in ("input", "output", "cache_read", "cache_write")}
        assert wb.target(ledger, "llama-70b-selfhosted", on=on) == t["to"]
    with pytest.raises(ConfigError, match="lab/mistral-ft has no self-hosted cost period with logged tokens"):
        wb.target(ledger, "mistral-ft", provider="lab")
    scenario = {"name": "simplest 60% to self-hosted", "period": {"start": "2026-11-01", "end": "2026-11-30"},
                "policies": [{"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 0.6, "pick": "simplest",
                              "to": wb.target(ledger, "llama-70b-selfhosted", on=dt.date(2026, 11, 30))}]}
    result = simulate.run(ledger, simulate.parse_scenario(scenario))
    # 18 of 30 gpt-4o requests (11k tokens each, $0.05 billed) move: 18 x 11k x $53.33/1M = $10.56 for $0.90
    assert result.moved_requests == 18
    assert result.baseline_cost_usd == pytest.approx(1800 + 1.5, abs=1e-6)
    assert result.scenario_cost_usd == pytest.approx(1800 + 1.5 - 18 * 0.05 + 18 * 11_000 * second / 1e6, abs=1e-6)


def test_a_user_override_wins_in_the_whatif_target_too(ledger, tmp_path):
    """One definition of a price: where a user price override of the self-hosted model wins in the ledger, the
    What-if target (the page's and `targets`) replays at the override's prices, not the cost file's rate."""
    from dashboard.services.whatif import self_hosted_label

    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", SELF_HOSTED)))
    [t] = wb.targets(ledger, dt.date(2026, 11, 20))
    assert (t["priced_by"], t["prices"]["input"], t["usd_per_mtok"]) == ("cost file", 40.0, 40.0)
    assert self_hosted_label(t) == "llama-70b-selfhosted (internal) · $40 per 1M tokens"
    overrides = _write(tmp_path, "o.yaml", "overrides:\n  - {provider: internal, model: llama-70b-selfhosted, "
                                           "effective_from: 2026-01-01, input_mtok: 10, output_mtok: 20}\n")
    config.replace_overrides(ledger, config.load_overrides_file(overrides))
    # the ledger: a day of 1M in + 0.5M out is $10 + $10
    assert ledger.sql("select distinct list_cost_usd from usage where provider = 'internal'").item() == Decimal("20")
    [t] = wb.targets(ledger, dt.date(2026, 11, 20))
    assert t["priced_by"] == "price override" and t["usd_per_mtok"] == 40.0     # the file's rate, still shown
    assert t["prices"] == t["to"]["prices"] == {"input": 10.0, "output": 20.0, "cache_read": 10.0, "cache_write": 10.0}
    assert self_hosted_label(t) == "llama-70b-selfhosted (internal) · $10 in / $20 out per 1M tokens (price override)"
    scenario = {"name": "to self-hosted", "period": {"start": "2026-11-01", "end": "2026-11-30"},
                "policies": [{"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 1.0, "to": t["to"]}]}
    result = simulate.run(ledger, simulate.parse_scenario(scenario))
    # 30 x (10k x $10 + 1k x $20) / 1M = $3.60 for the $1.50 billed; the internal model's own 30 days at $20
    assert result.baseline_cost_usd == pytest.approx(600 + 1.5, abs=1e-6)
    assert result.scenario_cost_usd == pytest.approx(600 + 3.6, abs=1e-6)
    # an override that does not cover the day the target is priced on: the ledger leaves the model unpriced then
    # (an override of the model replaces its cost-file rate), so it is no target
    overrides.write_text("overrides:\n  - {provider: internal, model: llama-70b-selfhosted, effective_from: "
                         "2026-01-01, effective_to: 2026-10-31, input_mtok: 10, output_mtok: 20}\n")
    config.replace_overrides(ledger, config.load_overrides_file(overrides))
    assert wb.targets(ledger, dt.date(2026, 11, 20)) == []


HALVES = """self_hosted:
  - {model: llama-70b-selfhosted, start: 2026-11-01, end: 2026-11-15, amount_usd: 600}
  - {model: llama-70b-selfhosted, start: 2026-11-16, end: 2026-11-30, amount_usd: 1200}
"""


def test_a_scenario_names_a_self_hosted_target_plainly(ledger, tmp_path):
    """`to: self-hosted:<model>`: each moved request is priced as the ledger prices the model on its day (the cost
    period's effective rate, or the user override where one wins), read from the warehouse by the simulator."""
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", HALVES)))
    first, second = 600 / 22.5, 1200 / 22.5          # $ per 1M tokens in each half of November

    def replay(to, share=1.0):
        scenario = {"name": "plain", "period": {"start": "2026-11-01", "end": "2026-11-30"},
                    "policies": [{"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": share, "to": to}]}
        return simulate.run(ledger, simulate.parse_scenario(scenario))

    result = replay("self-hosted:llama-70b-selfhosted")
    # 15 gpt-4o requests (11k tokens) in each half, each at its own half's rate; the $1.50 billed goes
    assert result.moved_requests == 30
    assert result.scenario_cost_usd == pytest.approx(1800 + 15 * 11_000 * (first + second) / 1e6, abs=1e-6)
    assert "llama-70b-selfhosted (self-hosted)" in result.by("target_model")["target_model"].to_list()
    # the mapping form says the same; name and provider may be given
    same = replay({"model": "LLaMA-70b-selfhosted", "self_hosted": True, "provider": "internal", "name": "ours"})
    assert same.scenario_cost_usd == pytest.approx(result.scenario_cost_usd, abs=1e-9)
    # a user override wins here as in the ledger
    overrides = _write(tmp_path, "o.yaml", "overrides:\n  - {provider: internal, model: llama-70b-selfhosted, "
                                           "effective_from: 2026-11-16, input_mtok: 10, output_mtok: 20}\n")
    config.replace_overrides(ledger, config.load_overrides_file(overrides))
    result = replay("self-hosted:llama-70b-selfhosted")
    # an override of the model replaces its cost-file rates (as in the ledger: the first half, before the override,
    # is unpriced there: 15 days x $20 = $300 of internal spend); the moved requests of the first half take the
    # first interval's price, the override's: 30 x (10k x $10 + 1k x $20) / 1M = $3.60
    assert float(ledger.sql("select sum(list_cost_usd) from usage where provider = 'internal'").item()) == 300
    result = replay("self-hosted:llama-70b-selfhosted")
    assert result.baseline_cost_usd == pytest.approx(300 + 1.5, abs=1e-6)
    assert result.scenario_cost_usd == pytest.approx(300 + 3.6, abs=1e-6)


def test_self_hosted_target_errors_are_named(ledger, tmp_path):
    from simulate.spec import ScenarioError

    def parse(to):
        return simulate.parse_scenario({"name": "x", "period": {"start": "2026-11-01", "end": "2026-11-30"},
                                        "policies": [{"kind": "shift", "match": {"models": ["gpt-4o"]},
                                                      "share": 1.0, "to": to}]})

    with pytest.raises(ConfigError, match="self-hosted:` needs a model name"):
        parse("self-hosted:  ")
    with pytest.raises(ConfigError, match="'gpt-4o' is not a target"):
        parse("gpt-4o")
    with pytest.raises(ConfigError, match="priced as the ledger prices it: drop `prices`"):
        parse({"model": "m", "self_hosted": True, "prices": {"input": 1, "output": 1}})
    with pytest.raises(ScenarioError, match=r"policies.0.to: self-hosted:llama-70b-selfhosted: the ledger prices no "
                                            r"self-hosted model of that name; load its cost file"):
        simulate.run(ledger, parse("self-hosted:llama-70b-selfhosted"))
    wb.replace_self_hosted(ledger, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", SELF_HOSTED + (
        "  - {provider: lab, model: llama-70b-selfhosted, start: 2026-11, amount_usd: 5}\n"))))
    ingest_paths(ledger, [_write(tmp_path, "lab.csv", HEADER + "\n2026-11-03T10:00:00Z,lab,llama-70b-selfhosted,"
                                                             "research,u1,1000,100,\n")])
    with pytest.raises(ScenarioError, match=r"several providers \(internal, lab\); name one: \{model: "
                                            r"llama-70b-selfhosted, provider: internal, self_hosted: true\}"):
        simulate.run(ledger, parse("self-hosted:llama-70b-selfhosted"))


def test_bad_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"entry 1, field seats"):
        wb.load_subscriptions_file(_write(tmp_path, "s.yaml", "subscriptions:\n  - {vendor: a, product: b, team: c, "
                                                             "seats: -1, price_per_seat_usd: 1, start: 2026-01}\n"))
    with pytest.raises(ConfigError, match="gpu_hours and usd_per_gpu_hour, or amount_usd"):
        wb.load_self_hosted_file(_write(tmp_path, "a.yaml", "self_hosted:\n  - {model: m, start: 2026-11}\n"))
    overlap = "self_hosted:\n  - {model: m, start: 2026-11, amount_usd: 1}\n  - {model: m, start: 2026-11-15, " \
              "end: 2026-12-15, amount_usd: 1}\n"
    with pytest.raises(ConfigError, match="entries 1 and 2 .* overlapping"):
        wb.load_self_hosted_file(_write(tmp_path, "b.yaml", overlap))
    with pytest.raises(ConfigError, match="no self-hosted cost period"):
        from warehouse import Warehouse
        with Warehouse(tmp_path / "empty.duckdb") as w:
            wb.target(w, "m")


@pytest.mark.slow
def test_cli_loads_and_shows(ledger_file, tmp_path):
    db = str(ledger_file)
    p = run("subscriptions", str(_write(tmp_path, "s.yaml", SUBS)), "--db", db)
    assert p.returncode == 0 and "3 subscription line(s) loaded" in p.stdout, p.stderr
    p = run("self-hosted", str(_write(tmp_path, "sh.yaml", SELF_HOSTED)), "--db", db)
    assert p.returncode == 0, p.stderr
    assert "internal/llama-70b-selfhosted 2026-11-01..2026-11-30: $1,800.00 over 45,000,000 tokens = $40.0000 per " \
           "1M tokens; priced $1,800.00, residual $0.00" in p.stdout
    assert "What-if target: to: self-hosted:llama-70b-selfhosted (priced as the ledger prices it on each request's " \
           "day; here cost file: input 40, output 40 per 1M tokens)" in p.stdout


def test_chargeback_page_shows_the_whole_bill(ledger_file, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from test_dashboard_regressions import ROOT
    from warehouse import Warehouse

    with Warehouse(ledger_file) as w:
        wb.replace_subscriptions(w, wb.load_subscriptions_file(_write(tmp_path, "s.yaml", SUBS)))
        wb.replace_self_hosted(w, wb.load_self_hosted_file(_write(tmp_path, "sh.yaml", SELF_HOSTED)))
    db = ledger_file
    monkeypatch.setenv("MODELMIX_DB", str(db))
    try:
        at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "chargeback.py"), default_timeout=120)
        at.session_state["modelmix_date_range"] = NOV
        at.run()
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    assert not at.exception
    assert any(h.value == "The whole AI bill, Nov 2026" for h in at.subheader)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Seats and subscriptions"] == "$753.70" and metrics["Token spend"] == "$1,801.50"
    # its bridge to the statement: the same month's spend, before the statement's allocation of unassigned
    [bridge] = [c.value for c in at.caption if c.value.startswith("Token spend is each team's own usage")]
    assert bridge.endswith("both add up to the month's $1,801.50."), bridge
    # light tables as the reader sees them (Chargeback draws no data grid)
    bill = next(t for t in summary_tables.tables(at) if "seat_usd" in t.columns)
    research = bill.filter(pl.col("team") == "research").row(0, named=True)
    assert (research["total_usd"], research["active_users"]) == ("$2,461.50", "5")
    hosted = next(t for t in summary_tables.tables(at) if "usd_per_mtok" in t.columns)
    assert hosted["usd_per_mtok"].to_list() == ["$40.0000"]


def test_chargeback_page_loads_the_whole_bill_files(ledger_file, tmp_path, monkeypatch):
    """The dashboard loads both files of the whole bill (as the CLI does): a bad file is named with its entry and
    field and writes nothing; a good one replaces the table, re-prices the self-hosted model and shows at once."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from test_dashboard_regressions import ROOT

    monkeypatch.setenv("MODELMIX_DB", str(ledger_file))
    try:
        at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "chargeback.py"), default_timeout=120)
        at.session_state["modelmix_date_range"] = NOV
        at.run()
        assert not at.exception
        assert not any("usd_per_mtok" in t.columns for t in summary_tables.tables(at))   # nothing self-hosted yet
        bad = SELF_HOSTED.replace("gpu_hours: 720", "gpu_hours: -1")
        at.file_uploader(key="bill_file_self_hosted").set_value(("sh.yaml", bad.encode(), "text/yaml")).run()
        at.button(key="bill_load_self_hosted").click().run()
        assert not at.exception
        assert "sh.yaml: entry 1, field gpu_hours" in at.error[0].value
        at.file_uploader(key="bill_file_self_hosted").set_value(("sh.yaml", SELF_HOSTED.encode(), "text/yaml")).run()
        at.button(key="bill_load_self_hosted").click().run()
        assert not at.exception and not at.error
        assert "Loaded 1 line of self-hosted inference costs from sh.yaml." in at.success[0].value
        hosted = next(t for t in summary_tables.tables(at) if "usd_per_mtok" in t.columns)
        assert hosted["usd_per_mtok"].to_list() == ["$40.0000"]
        at.file_uploader(key="bill_file_subscriptions").set_value(("s.yaml", SUBS.encode(), "text/yaml")).run()
        at.button(key="bill_load_subscriptions").click().run()
        assert not at.exception and not at.error
        metrics = {m.label: m.value for m in at.metric}
        # the hand-checked figures of test_chargeback_page_shows_the_whole_bill, now loaded through the page
        assert metrics["Seats and subscriptions"] == "$753.70" and metrics["Token spend"] == "$1,801.50"
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_example_files_validate():
    from test_dashboard_regressions import ROOT

    assert len(wb.load_subscriptions_file(ROOT / "docs" / "examples" / "subscriptions.yaml")) == 4
    assert len(wb.load_self_hosted_file(ROOT / "docs" / "examples" / "self_hosted.yaml")) == 2
