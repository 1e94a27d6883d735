"""`spend_daily`: usage_daily without user, key and labels, the rollup the spend pages read over long ranges
(sql/writes/spend_daily_rows.sql). The pages' figures must not move: every query switched to it answers exactly
as it did over usage_daily."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
from polars.testing import assert_frame_equal

import sql
from warehouse import Warehouse

# the queries that read spend_daily, with parameters over the sample ledger's whole range
SWITCHED = {
    "spend_month_to_date": lambda a, b: {"end": b},
    "top_teams": lambda a, b: {"start": a, "end": b, "limit": 10},
    "top_models": lambda a, b: {"start": a, "end": b, "limit": 10},
    "spend_by_model_over_time": lambda a, b: {"start": a, "end": b, "bucket": "week", "top_n": 3},
    "spend_by_provider_over_time": lambda a, b: {"start": a, "end": b, "bucket": "week"},
    "finance_chargeback_lines": lambda a, b: {"month_start": a, "month_end": b},
    "finance_daily_spend_by_team": lambda a, b: {"start": a, "end": b},
    "finance_reconcile_detail": lambda a, b: {"start": a, "end": b},
    "finance_reconcile_token_classes": lambda a, b: {"start": a, "end": b},
    "billed_vs_list_totals": lambda a, b: {"start": a, "end": b},
    "unpriced_models": lambda a, b: {"start": a, "end": b},
    "finance_month_lines": lambda a, b: {"start": a, "end": b},
    "bridge_spend_all_sources": lambda a, b: {"start": a, "end": b},
    "bridge_spend_billed_list": lambda a, b: {"start": a, "end": b},
}


def _params(name: str, first: dt.date, last: dt.date) -> dict:
    wanted = SWITCHED[name](first, last)
    text = sql.load(f"queries/{name}")
    return {k: v for k, v in wanted.items() if f"${k}" in text}


def test_each_switched_query_answers_as_it_did_over_usage_daily(sample_wh):
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    for name in SWITCHED:
        text = sql.load(f"queries/{name}")
        assert "from spend_daily" in text, name
        params = _params(name, first, last)
        old = text.replace("from spend_daily", "from usage_daily")     # the same query as it read before
        new_frame, old_frame = sample_wh.sql(text, **params), sample_wh.sql(old, **params)
        assert new_frame.height > 0 or name == "unpriced_models", name     # the sample prices every model
        try:
            assert_frame_equal(new_frame, old_frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e


def test_spend_daily_is_much_smaller_and_sums_to_the_rollup(sample_wh):
    daily, spend = (sample_wh.scalar(f"select count(*) from {t}") for t in ("usage_daily", "spend_daily"))
    assert 0 < spend < daily
    for col in ("row_count", "requests", "spend_usd", "cost_usd", "list_cost_usd", "rc_expected_usd"):
        assert sample_wh.scalar(f"select sum({col}) from spend_daily") == \
            sample_wh.scalar(f"select sum({col}) from usage_daily"), col
    # its columns are usage_daily's (same types) less the per-person, per-key and label ones
    types = {t: dict(sample_wh.sql("select column_name, data_type from information_schema.columns "
                                   "where table_name = $t", t=t).rows()) for t in ("usage_daily", "spend_daily")}
    assert types["spend_daily"] == {c: ty for c, ty in types["usage_daily"].items()
                                    if c not in ("user_id", "api_key", "labels")}


def test_a_ledger_from_before_spend_daily_gets_it_at_open(sample_db, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(sample_db, copy)
    with Warehouse(copy) as wh:
        expected = wh.sql("select * from spend_daily")
        wh.write(lambda cur: cur.execute("drop table spend_daily"))
    with Warehouse(copy) as wh:
        rebuilt = wh.sql("select * from spend_daily")
        assert wh.sql(sql.load("checks/assert_spend_daily_matches_rollup")).is_empty()
    keys = [c for c, t in expected.schema.items() if t not in (pl.Float64,)]
    assert_frame_equal(rebuilt.sort(keys, nulls_last=True), expected.sort(keys, nulls_last=True),
                       check_exact=False, rel_tol=1e-12)


def test_the_check_finds_a_spend_daily_that_lags_the_rollup(sample_db, tmp_path):
    copy = tmp_path / "lag.duckdb"
    shutil.copy(sample_db, copy)
    with Warehouse(copy) as wh:
        day = wh.scalar("select max(day) from spend_daily")
        wh.write(lambda cur: cur.execute("delete from spend_daily where day = $d", {"d": day}))
        bad = wh.sql(sql.load("checks/assert_spend_daily_matches_rollup"))
        assert not bad.is_empty() and set(bad["day"].to_list()) == {day}


# Explore: grouped or filtered by neither user nor key, its queries read spend_daily ($coarse); the figures are
# the same as over usage_daily ($coarse false), which a user or key grouping still reads
def test_explore_reads_spend_daily_unless_a_user_or_key_is_involved(sample_wh):
    from dashboard.services import explore

    assert explore.coarse("team", None) and explore.coarse("model", {"provider": ["openai"]})
    assert not explore.coarse("user_id", None) and not explore.coarse("api_key", None)
    assert not explore.coarse("team", {"user_id": ["u1"]}) and not explore.coarse("team", {"api_key": ["k"]})
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    provider = sample_wh.scalar("select provider from usage_daily group by 1 order by sum(spend_usd) desc limit 1")
    for name, extra in (("explore_breakdown", {"limit": 50}), ("explore_trend", {"bucket": "week", "top_n": 3})):
        for by, filters in (("team", None), ("model", {"provider": [provider]}), ("project", None)):
            params = {"start": first, "end": last, "dimension": by, "filters": explore.filters_param(filters),
                      **extra, **({"people": False} if name == "explore_breakdown" else {})}
            on_spend = sample_wh.query(name, coarse=True, **params)
            on_usage = sample_wh.query(name, coarse=False, **params)
            assert on_spend.height > 0, (name, by)
            assert_frame_equal(on_spend, on_usage, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)


REFERENCE_FILTER_OPTIONS = """
with daily as (select * from usage_daily where day between $start and $end),
labelled as (
    select coalesce(provider, '(none)') as provider, coalesce(model, '(none)') as model,
        coalesce(team, '(none)') as team, coalesce(project, '(none)') as project,
        coalesce(api_key, '(none)') as api_key, coalesce(user_id, '(none)') as user_id,
        coalesce(workload, '(none)') as workload, coalesce(operation, '(none)') as operation,
        coalesce(service_tier, '(none)') as service_tier, spend_usd
    from daily
),
long as (
    unpivot labelled on provider, model, team, project, api_key, user_id, workload, operation, service_tier
    into name dimension value value
)
select dimension, value, cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd
from long group by dimension, value order by dimension, spend_usd desc, value
"""


def test_filter_options_equal_the_one_pass_unpivot_of_usage_daily(sample_wh):
    """The filter pickers' values (explore_filter_options: spend_daily for seven dimensions, usage_daily for
    users and keys, grouping sets) are exactly what one unpivot of usage_daily gave (the query before)."""
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    got = sample_wh.query("explore_filter_options", start=first, end=last)
    want = sample_wh.sql(REFERENCE_FILTER_OPTIONS, start=first, end=last)
    assert set(got["dimension"]) == {"provider", "model", "team", "project", "api_key", "user_id", "workload",
                                     "operation", "service_tier"}
    assert_frame_equal(got, want)


# the alert detectors group per key and day, never per user: they read key_daily (usage_daily without user_id and
# labels), and answer exactly as over usage_daily
KEY_DAILY_QUERIES = ("finance_daily_spend_detail", "finance_regression_daily")


def test_the_detectors_read_key_daily_and_answer_as_over_usage_daily(sample_wh):
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    daily, keys = (sample_wh.scalar(f"select count(*) from {t}") for t in ("usage_daily", "key_daily"))
    assert 0 < keys <= daily
    for name in KEY_DAILY_QUERIES:
        text = sql.load(f"queries/{name}")
        assert "from key_daily" in text and "from usage_daily" not in text, name
        old = text.replace("from key_daily", "from usage_daily")
        new_frame, old_frame = sample_wh.sql(text, start=first, end=last), sample_wh.sql(old, start=first, end=last)
        assert new_frame.height > 0, name
        try:
            assert_frame_equal(new_frame, old_frame, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from e
