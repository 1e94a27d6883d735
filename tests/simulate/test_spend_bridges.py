"""One spend (issue 12): every page, the CLI and the replay agree on spend over one range, and every other total a
page shows bridges to it to the cent. The ledger (tests/spend_ledger.py) has a provider's bill and a gateway's
request log overlapping on some days, days with no request-level data, a credit line and a provider only the
gateway reports; its true figures come from the files.

The bridge queries are tested against those figures; the pages are rendered with AppTest on one range (the
ledger's month) and their headline figures and bridges read back from the rendered metrics and captions."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
import summary_tables
from streamlit.testing.v1 import AppTest

import simulate
import spend_ledger
from dashboard.components import bridges
from dashboard.components.formatting import usd
from ledger_factory import build_ledger
from cli import main as cli
from warehouse import Warehouse

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "views"
RANGE = (spend_ledger.FIRST, spend_ledger.LAST)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("one_spend")
    truth = spend_ledger.write(folder)
    truth["db"] = build_ledger(folder / "ledger.duckdb", truth["files"])
    return truth


def cents(x) -> Decimal:
    return Decimal(str(x)).quantize(CENT)


def near(a, b, tol: str = "0.01") -> bool:
    """Equal to the cent, allowing the ledger's per-row rounding of the files' amounts (a fraction of a cent)."""
    return abs(Decimal(str(a)) - Decimal(str(b))) <= Decimal(tol)


def bridge_query(db: Path, name: str, start: dt.date = RANGE[0], end: dt.date = RANGE[1]) -> dict:
    with Warehouse(db) as wh:
        return wh.query(name, start=start, end=end).row(0, named=True)


# --- the bridge queries -------------------------------------------------------------------------------------
def test_spend_is_the_bill_where_one_covers_the_day_else_the_log(ledger):
    b = bridge_query(ledger["db"], "bridge_spend_billed_list")
    assert near(b["spend_usd"], ledger["spend_usd"])
    with Warehouse(ledger["db"]) as wh:
        overview = wh.query("billed_vs_list_totals", start=RANGE[0], end=RANGE[1]).row(0, named=True)
    assert b["spend_usd"] == cents(overview["spend_usd"])
    # Anthropic's log is the only priced usage counted; OpenAI's bill (with its credit) has no token counts
    assert near(b["billed_priced_usd"], ledger["log_anthropic_usd"])
    assert near(b["cost_only_usd"], ledger["bill_usd"])
    assert b["billed_unpriced_usd"] == 0 and b["list_only_usd"] == 0
    assert (b["billed_priced_usd"] + b["billed_unpriced_usd"] + b["cost_only_usd"] + b["list_only_usd"]
            + b["rounding_usd"]) == b["spend_usd"]
    assert abs(b["rounding_usd"]) <= Decimal("0.02")


def test_billed_across_all_sources_bridges_to_spend(ledger):
    b = bridge_query(ledger["db"], "bridge_spend_all_sources")
    # the gateway's OpenAI log of the 10th-20th is superseded by the bill, yet reconciled on its own
    assert near(b["superseded_billed_usd"], ledger["log_openai_usd"])
    assert b["superseded_provider_days"] == 11 and b["superseded_sources"] == "litellm-spend-logs"
    assert near(b["billed_all_usd"], ledger["log_openai_usd"] + ledger["log_anthropic_usd"])
    assert (b["spend_usd"] + b["superseded_billed_usd"] - b["list_only_usd"] - b["billed_unpriced_usd"]
            - b["cost_only_usd"] + b["rounding_usd"]) == b["billed_all_usd"]
    with Warehouse(ledger["db"]) as wh:
        detail = wh.query("finance_reconcile_detail", start=RANGE[0], end=RANGE[1])
    assert b["billed_all_usd"] == cents(detail["billed_usd"].sum())


def test_replay_baseline_bridges_to_spend_and_is_the_replays_own(ledger):
    b = bridge_query(ledger["db"], "bridge_spend_replay")
    assert near(b["replaced_usd"], ledger["bill_on_logged_days_usd"])
    assert near(b["replay_source_usd"], ledger["log_openai_usd"])
    assert near(b["replay_baseline_usd"], ledger["replay_baseline_usd"])
    assert b["spend_usd"] - b["replaced_usd"] + b["replay_source_usd"] + b["rounding_usd"] == b["replay_baseline_usd"]
    assert (b["first_day"], b["last_day"]) == RANGE
    with Warehouse(ledger["db"]) as wh:
        result = simulate.run(wh, simulate.load_scenario("baseline"))
        moved = simulate.run(wh, simulate.load_scenario("armstrong-80-99"))
    assert cents(result.baseline_cost_usd) == b["replay_baseline_usd"]
    assert cents(moved.baseline_cost_usd) == b["replay_baseline_usd"]
    sb = moved.spend_bridge
    assert (cents(sb.spend_usd), cents(sb.replay_baseline_usd)) == (b["spend_usd"], b["replay_baseline_usd"])
    assert cents(sb.spend_usd - sb.replaced_usd + sb.replay_source_usd + sb.rounding_usd) == cents(
        moved.baseline_cost_usd)
    assert moved.to_dict()["spend_bridge"]["replay_baseline_usd"] == float(b["replay_baseline_usd"])
    assert "From spend to the replay's baseline:" in moved.summary_text()


def test_a_bridge_over_part_of_the_range(ledger):
    # the 1st-9th: no request-level OpenAI data, so the replay reads the bill and the baseline is spend
    b = bridge_query(ledger["db"], "bridge_spend_replay", RANGE[0], dt.date(2026, 3, 9))
    assert b["replaced_provider_days"] == 0 and b["replaced_usd"] == 0
    assert b["replay_baseline_usd"] == b["spend_usd"]


def test_a_scoped_scenario_takes_what_its_scope_leaves_out(ledger):
    scenario = simulate.parse_scenario({"name": "anthropic only", "scope": {"providers": ["anthropic"]},
                                        "period": {"start": "2026-03-01", "end": "2026-03-31"}, "policies": []})
    with Warehouse(ledger["db"]) as wh:
        result = simulate.run(wh, scenario)
    sb = result.spend_bridge
    assert near(result.baseline_cost_usd, ledger["log_anthropic_usd"])
    assert cents(sb.replay_baseline_usd) == cents(result.baseline_cost_usd)
    # what OpenAI's replay reads: the log on the 10th-20th, the bill's lines on the other days
    assert near(sb.outside_scope_usd, ledger["replay_baseline_usd"] - ledger["log_anthropic_usd"], "0.02")
    assert cents(sb.spend_usd - sb.replaced_usd + sb.replay_source_usd - sb.outside_scope_usd
                 + sb.rounding_usd) == cents(sb.replay_baseline_usd)
    assert any("outside the scope" in line for line in sb.lines())


def test_a_team_restricted_viewer_gets_its_teams_bridge(ledger):
    # engineering is the Anthropic traffic of the gateway log: no bill of its own, so the replay reads what spend
    # counts; product's OpenAI requests are logged on the 10th-20th under a bill that (unattributed) is not theirs
    with Warehouse(ledger["db"]) as wh:
        view = wh.as_user("viewer@example.com", ["engineering"])
        b = view.query("bridge_spend_replay", start=RANGE[0], end=RANGE[1]).row(0, named=True)
        result = simulate.run(view, simulate.load_scenario("baseline"))
    assert near(b["spend_usd"], ledger["log_anthropic_usd"])
    assert b["replaced_provider_days"] == 0 and b["replay_baseline_usd"] == b["spend_usd"]
    assert cents(result.baseline_cost_usd) == b["replay_baseline_usd"]
    assert cents(result.spend_bridge.spend_usd) == b["spend_usd"]
    with Warehouse(ledger["db"]) as wh:
        view = wh.as_user("viewer@example.com", ["product"])
        b = view.query("bridge_spend_replay", start=RANGE[0], end=RANGE[1]).row(0, named=True)
        result = simulate.run(view, simulate.load_scenario("baseline"))
    assert b["spend_usd"] == 0 and near(b["replay_source_usd"], ledger["log_openai_usd"])
    assert cents(result.baseline_cost_usd) == b["replay_baseline_usd"] == b["replay_source_usd"] + b["rounding_usd"]


def test_cli_simulate_and_outlook_carry_the_bridge(ledger, capsys):
    assert cli.main(["simulate", "armstrong-80-99", "--db", str(ledger["db"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sb = out["spend_bridge"]
    assert near(sb["spend_usd"], ledger["spend_usd"])
    assert cents(sb["replay_baseline_usd"]) == cents(out["baseline_cost_usd"])
    assert cli.main(["outlook", "armstrong-80-99", "--db", str(ledger["db"])]) == 0
    text = capsys.readouterr().out
    assert "The projection starts from the replay baseline" in text
    assert usd(sb["spend_usd"]) in text and usd(sb["replay_baseline_usd"]) in text


def test_exports_budgets_and_alerts_count_spend(ledger, tmp_path, capsys):
    """`modelmix report` (csv, xlsx, focus), budgets and `modelmix alerts` on the month: each adds up to spend."""
    import polars as pl

    spend = cents(ledger["spend_usd"])
    db = str(ledger["db"])
    for fmt in ("csv", "xlsx", "focus"):
        out = tmp_path / f"march.{fmt}"
        assert cli.main(["report", "--db", db, "--month", "2026-03", "--format", fmt, "--out", str(out)]) == 0
        if fmt == "csv":
            total = pl.read_csv(out)["spend_usd"].sum()
        elif fmt == "xlsx":
            total = pl.read_excel(out, sheet_name="Statement")["total_usd"].sum()
        else:
            total = pl.read_csv(out, infer_schema_length=0)["BilledCost"].cast(pl.Decimal(38, 12)).sum()
        assert near(total, spend, "0.005"), (fmt, total, spend)
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text("budgets:\n"
                       "  - {scope: provider, name: openai, period: month, start: 2026-03, amount_usd: 1}\n"
                       "  - {scope: provider, name: anthropic, period: month, start: 2026-03, amount_usd: 1}\n")
    assert cli.main(["budgets", "--db", db, str(budgets)]) == 0
    capsys.readouterr()
    assert cli.main(["alerts", "--db", db, "--json"]) == 1
    over = [a for a in json.loads(capsys.readouterr().out)["alerts"] if a["kind"] == "budget"]
    assert {a["name"] for a in over} == {"openai", "anthropic"}
    assert near(sum(Decimal(str(a["actual_usd"])) for a in over), spend)
    with Warehouse(ledger["db"]) as wh:
        wh.write(lambda cur: cur.execute("delete from budgets"))


def test_equation_parses_back():
    text = bridges.equation(("Replay baseline", 5.0), [("+", "spend", 7.5), ("−", "billed on replayed days", 3.0),
                                                       ("+", "what the log recorded", 0.51), ("+", "rounding", -0.01)])
    total, terms = parse_bridge(text)
    assert total == ("Replay baseline", Decimal("5.00"))
    assert [t[2] for t in terms] == [Decimal("7.50"), Decimal("-3.00"), Decimal("0.51"), Decimal("-0.01")]
    # a zero term after the first is left out
    assert "rounding" not in bridges.equation(("A", 1.0), [("+", "b", 1.0), ("+", "rounding", 0.0)])


# --- the pages, on one range ----------------------------------------------------------------------------------
AMOUNT = re.compile(r"(-?)\$([\d,]+\.\d{2})")


def money(text: str) -> Decimal:
    """The last dollar amount in `text` as a Decimal."""
    sign, digits = AMOUNT.findall(text)[-1]
    return Decimal(sign + digits.replace(",", ""))


def parse_bridge(text: str) -> tuple[tuple[str, Decimal], list[tuple[str, str, Decimal]]]:
    """A rendered bridge `**Total $A** = first $B + second $C − third $D[. more text]` as ((label, A), [(sign,
    label, signed amount), ...])."""
    text = text.replace("**", "")
    left, right = text.split(" = ", 1)
    right = right.split(". ", 1)[0]
    terms = []
    for i, part in enumerate(re.split(r" (?=[+−] )", right)):
        sign = "+" if i == 0 else part[0]
        label = part if i == 0 else part[2:]
        amount = money(label)
        terms.append((sign, AMOUNT.sub("", label).strip(), amount if sign == "+" else -amount))
    return (AMOUNT.sub("", left).strip(), money(left)), terms


def bridge_caption(at: AppTest, starts: str) -> tuple[tuple[str, Decimal], list[tuple[str, str, Decimal]]]:
    found = [c.value for c in at.caption if f"**{starts} $" in c.value]
    assert len(found) == 1, (starts, [c.value for c in at.caption])
    text = found[0][found[0].index(f"**{starts} $"):]
    (label, total), terms = parse_bridge(text)
    assert sum(t[2] for t in terms) == total, (text, terms)       # the bridge adds up, to the cent
    return (label, total), terms


def term(terms, label: str) -> Decimal:
    found = [t[2] for t in terms if t[1] == label]
    assert len(found) == 1, (label, terms)
    return found[0]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


@pytest.fixture
def page(monkeypatch, ledger):
    def run(name: str, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(ledger["db"]))
        monkeypatch.setenv("MODELMIX_WARM_UP", "0")
        if name == "overview":      # the app's first page (it links to others, which only the router knows)
            at = AppTest.from_file(str(PAGES.parent / "app.py"), default_timeout=120)
        else:
            at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
            at.session_state["modelmix_date_range"] = RANGE
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.slow
def test_every_page_shows_one_spend_or_bridges_to_it(ledger, page):
    # Overview: the headline is spend, taken apart by how it was costed
    at = page("overview")
    assert at.date_input[0].value == RANGE          # the sidebar's default: the whole (one-month) ledger
    spend_text = metric(at, "Spend")
    spend = money(spend_text)
    assert near(spend, ledger["spend_usd"])
    (_, total), terms = bridge_caption(at, "Spend")
    assert total == spend
    assert f"${term(terms, 'billed for priced usage'):,}" == metric(at, "Billed cost vs list price")

    # Explore: the table's total is spend
    at = page("explore")
    totals = [c.value for c in at.caption if "in total" in c.value]
    assert len(totals) == 1 and money(totals[0]) == spend, totals

    # Budgets: the month-end forecast's actual to date (the range is the whole month) is spend
    at = page("budgets", forecast_by="Total")
    [actual] = [t for t in summary_tables.tables(at) if "forecast_total_usd" in t.columns]    # one row: Total
    assert actual.height == 1 and money(actual["actual_to_date_usd"][0]) == spend

    # Reconciliation: billed across all sources is not spend; its bridge says why
    at = page("reconciliation")
    billed = money(metric(at, "Billed, all sources"))
    (_, total), terms = bridge_caption(at, "Billed, all sources")
    assert total == billed and term(terms, "spend") == spend
    assert billed != spend

    # Chargeback: the month's statement is spend
    at = page("chargeback")
    assert money(metric(at, "Total spend, Mar 2026")) == spend
    assert money(metric(at, "Token spend")) == spend        # the whole-bill block: spend + seats and subscriptions
    # its team lines are before the statement's allocation: what stays unassigned there is what the statement shares out
    [bridge] = [c.value for c in at.caption if c.value.startswith("Token spend is each team's own usage")]
    allocated = money(metric(at, "Allocated from unassigned"))
    assert (f"(**${allocated:,.2f}** stays on its own line here)" in bridge) == bool(allocated), bridge

    # What-if: the replay baseline is not spend; its bridge says why
    at = page("whatif")
    baseline = money(metric(at, "Replay baseline"))
    (_, total), terms = bridge_caption(at, "Replay baseline")
    assert total == baseline and term(terms, "spend") == spend
    assert near(baseline, ledger["replay_baseline_usd"])
    assert baseline != spend

    # Outlook: it projects from the same replay baseline, bridged to the same spend
    at = page("outlook")
    (_, total), terms = bridge_caption(at, "Replay baseline")
    assert total == baseline and term(terms, "spend") == spend
