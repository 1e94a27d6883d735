"""Per-person views of the ledger (`Warehouse.as_user`): team scope enforced in the query layer, writes audited
under the person who made them. The dashboard's sign-in and roles are tested in test_dashboard_auth.py."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from decimal import Decimal

import pytest

import simulate
import sql
from finance import budgets
from ingest import ingest_paths
from simulate import frontier, quality
from test_sql_files import _params
from warehouse import audit, config, ledger
from warehouse.errors import PermissionDenied

TEAMS = ["customer-support", "legal"]
HEADER = "ts,provider,model,project,input_tokens,output_tokens,cost_usd"


def test_restricted_view_sees_only_its_teams_in_every_relation(sample_wh):
    view = sample_wh.as_user("viewer@example.com", TEAMS)
    for relation, money in (("usage", "cost_usd"), ("usage_daily", "spend_usd"), ("spend_daily", "spend_usd"),
                            ("people_monthly", "spend_usd"), ("key_daily", "spend_usd"), ("usage_replay", "cost_usd"),
                            ("replay_stored", "list_cost_usd"), ("replay_buckets", "base_cost")):
        everyone = sample_wh.sql(f"select team, sum({money}) as s from {relation} group by team")
        assert everyone.height > len(TEAMS), relation                   # the ledger really holds other teams
        seen = view.sql(f"select team, sum({money}) as s from {relation} group by team order by team")
        expected = everyone.filter(everyone["team"].is_in(TEAMS)).sort("team")
        assert seen.rows() == expected.rows(), relation
    # schema-qualified names resolve to the filtered view too
    assert view.scalar("select count(distinct team) from main.usage") == len(TEAMS)
    assert view.scalar("select count(distinct team) from main.replay_stored") == len(TEAMS)


@pytest.mark.slow
def test_every_named_query_returns_only_the_allowed_teams(sample_wh):
    view = sample_wh.as_user("viewer@example.com", TEAMS)
    checked = 0
    for name in (n for n in sql.names() if n.startswith("queries/")):
        text = sql.load(name)
        frame = view.sql(text, **_params(text))
        if "team" in frame.columns:
            extra = set(frame["team"].drop_nulls()) - set(TEAMS)
            assert not extra, f"{name} shows teams {extra}"
            checked += 1
    assert checked >= 5                                      # the test really looked at team-bearing queries


def test_shared_price_macro_prices_only_the_allowed_teams_rows(sample_wh):
    """The per-token-class price join lives in one persistent macro (migration 022, `token_class_prices`); the rows
    are its argument, so on a restricted cursor it prices the temp view of the caller, never main's rows: the
    view's result is exactly the owner's result over the allowed teams' rows (and the queries built on it too)."""
    view = sample_wh.as_user("viewer@example.com", TEAMS)
    priced = ("with d as (select *, cast(day as timestamp) as price_at from usage_daily) "
              "select team, model, day, count(*) as n, sum(input_tokens * p_in * factor) as list_in, "
              "sum(output_tokens * p_out * factor) as list_out, sum(cache_read_tokens * p_cr * factor) as list_cr "
              "from token_class_prices(d) group by all order by all")
    everyone = sample_wh.sql(priced)
    assert set(everyone["team"]) - set(TEAMS)                       # the ledger really holds other teams' rows
    expected = everyone.filter(everyone["team"].is_in(TEAMS))
    assert expected.height and expected["list_in"].drop_nulls().sum() > 0   # and priced rows of the allowed ones
    assert view.sql(priced).rows() == expected.rows()
    # the queries built on it: the detectors' daily measures and the FOCUS export
    for name, team_col, params in (
            ("finance_regression_daily", "team", {"start": dt.date(2025, 1, 1), "end": dt.date(2026, 12, 31)}),
            ("finance_focus_cost_usage", "x_Team", {"month_start": dt.date(2026, 10, 1),
                                                     "month_end": dt.date(2026, 10, 31)})):
        full = sample_wh.query(name, **params)
        assert set(full[team_col]) - set(TEAMS), name
        seen = view.query(name, **params)
        assert seen.height and seen.rows() == full.filter(full[team_col].is_in(TEAMS)).rows(), name


def test_no_teams_means_no_rows_and_unrestricted_means_all(sample_wh):
    assert sample_wh.as_user("nobody@example.com", []).scalar("select count(*) from usage") == 0
    everyone = sample_wh.scalar("select count(*) from usage")
    assert sample_wh.as_user("admin@example.com").scalar("select count(*) from usage") == everyone
    # a bound parameter, not SQL: a team name that is an injection attempt matches nothing and breaks nothing
    hostile = sample_wh.as_user("x@example.com", ["') or true --", "x'; drop table usage_raw; --"])
    assert hostile.scalar("select count(*) from usage") == 0
    assert sample_wh.scalar("select count(*) from usage_raw") > 0


def test_replay_and_prepared_tables_follow_the_scope(sample_wh):
    scenario = simulate.load_scenario("armstrong-80-99")
    by_hand = scenario.model_copy(update={"scope": scenario.scope.model_copy(update={"teams": TEAMS})})
    view = sample_wh.as_user("viewer@example.com", TEAMS)
    seen = simulate.run(view, scenario)
    assert seen.baseline_cost_usd == pytest.approx(simulate.run(sample_wh, by_hand).baseline_cost_usd)
    assert seen.baseline_cost_usd < simulate.run(sample_wh, scenario).baseline_cost_usd
    # the prepared slider tables are cached per scope: the owner's arrays never serve the restricted view
    everyone = frontier.prepare(sample_wh, scenario).evaluate(scenario)
    restricted = frontier.prepare(view, scenario).evaluate(scenario)
    assert restricted.baseline_cost_usd == pytest.approx(seen.baseline_cost_usd)
    assert everyone.baseline_cost_usd > restricted.baseline_cost_usd


def test_a_restricted_view_cannot_write(sample_wh):
    before = sample_wh.data_version
    with pytest.raises(PermissionDenied):
        sample_wh.as_user("viewer@example.com", TEAMS).write(lambda cur: cur.execute("delete from usage_raw"))
    assert sample_wh.data_version == before


def test_views_share_the_owner_and_closing_one_closes_nothing(wh):
    view = wh.as_user("ann@example.com")
    view.close()
    wh.write(lambda cur: None)
    assert view.data_version == wh.data_version and wh.scalar("select 1") == 1


def test_every_write_is_audited_under_the_person_who_made_it(wh, csv_file):
    ann = wh.as_user("ann@example.com")
    path = csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,support-bot,1000,100,0.5")
    [r] = ingest_paths(ann, [path])
    [again] = ingest_paths(ann, [path])
    assert (r.status, again.status) == ("loaded", "duplicate")
    ann.write(ledger.remove_ingest, r.ingest_id)
    config.replace_rules(ann, [config.AttributionRule(field="project", pattern="support-*", team="support")])
    config.replace_overrides(ann, [config.PriceOverride(provider="openai", model="gpt-4o",
                                                        effective_from=dt.date(2026, 1, 1), discount_pct=Decimal(10))])
    config.replace_aliases(ann, [config.ModelAlias(alias="gpt4o", model="gpt-4o")])
    quality.replace_scores(ann, [quality.QualityScore(workload="*", model="gpt-4o", score=0.9, source="t",
                                                      as_of=dt.date(2026, 1, 1))])
    budgets.replace_budgets(ann, [budgets.Budget(scope="team", name="support", start=dt.date(2026, 1, 1),
                                                 amount_usd=Decimal(100))])
    log = wh.sql("select actor, action, target, detail from audit_log order by id")
    assert log["action"].to_list() == ["ingest", "ingest", "remove_upload", "rules_edit", "prices_edit",
                                       "aliases_edit", "quality_edit", "budgets_edit"]
    assert set(log["actor"]) == {"ann@example.com"}
    assert log["target"][0] == str(path) and log["target"][2] == str(path)
    assert json.loads(log["detail"][0])["rows_loaded"] == 1
    assert json.loads(log["detail"][2]) == {"ingest_id": r.ingest_id, "rows_removed": 1}
    assert all(a in audit.ACTIONS for a in log["action"])


def test_a_failed_write_leaves_no_audit_row_and_the_default_actor_is_the_os_user(wh, csv_file):
    def half_done(cur):
        audit.record(cur, "rules_edit", "attribution_rules")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        wh.write(half_done)
    assert wh.scalar("select count(*) from audit_log") == 0
    ingest_paths(wh, [csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,p,10,1,0.1")])
    assert wh.scalar("select actor from audit_log") == f"cli:{getpass.getuser()}"
    with pytest.raises(ValueError, match="unknown audit action"):
        wh.write(lambda cur: audit.record(cur, "made_up"))
    with pytest.raises(RuntimeError, match="outside Warehouse.write"):
        audit.current_actor()


def test_a_restricted_view_sees_only_its_teams_budgets(wh):
    budgets.replace_budgets(wh, [
        budgets.Budget(scope="team", name="legal", start=dt.date(2026, 1, 1), amount_usd=Decimal(100)),
        budgets.Budget(scope="team", name="sales", start=dt.date(2026, 1, 1), amount_usd=Decimal(900)),
        budgets.Budget(scope="project", name="bot", start=dt.date(2026, 1, 1), amount_usd=Decimal(50)),
    ])
    assert wh.as_user("v@example.com", ["legal"]).sql("select scope, name from budgets").rows() == [("team", "legal")]
    assert wh.scalar("select count(*) from budgets") == 3
