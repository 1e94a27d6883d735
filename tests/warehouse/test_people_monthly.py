"""`people_monthly`: usage_daily per month x team x user x key (sql/writes/people_monthly_rows.sql), the rollup
Explore's user and key pickers and its user, key or team breakdowns read (macro people_in_range, migration 030).
The figures must not move: over any range, also one that cuts months, each answers exactly as over usage_daily."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from polars.testing import assert_frame_equal

import sql
from dashboard.services import explore
from tests.warehouse.test_spend_daily import REFERENCE_FILTER_OPTIONS
from warehouse import Warehouse


def _ranges(wh) -> list[tuple[dt.date, dt.date]]:
    """The whole ledger, ranges cutting months at both ends, one day, and one month's part."""
    first, last = wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    mid = first + (last - first) / 2
    return [(first, last), (first + dt.timedelta(days=10), last - dt.timedelta(days=10)), (mid, mid),
            (mid.replace(day=1), mid), (mid, last), (first - dt.timedelta(days=40), first + dt.timedelta(days=3))]


def test_filter_options_equal_the_one_pass_unpivot_of_usage_daily_over_any_range(sample_wh):
    for start, end in _ranges(sample_wh):
        got = sample_wh.query("explore_filter_options", start=start, end=end)
        want = sample_wh.sql(REFERENCE_FILTER_OPTIONS, start=start, end=end)
        assert got.height > 0, (start, end)
        try:
            assert_frame_equal(got, want, check_exact=True)
        except AssertionError as e:
            raise AssertionError(f"{start}..{end}: {e}") from e


def _top(wh, column: str) -> str:
    return wh.scalar(f"select {column} from usage_daily where {column} is not null group by 1 "
                     "order by sum(spend_usd) desc, 1 limit 1")


def test_breakdown_by_user_key_or_team_from_people_monthly_equals_usage_daily(sample_wh):
    user, key, team = _top(sample_wh, "user_id"), _top(sample_wh, "api_key"), _top(sample_wh, "team")
    cases = [("user_id", None), ("api_key", None), ("user_id", {"team": [team]}), ("api_key", {"user_id": [user]}),
             ("team", {"api_key": [key]}), ("team", {"user_id": [user, "(none)"]}), ("user_id", {"api_key": [key]})]
    for by, filters in cases:
        assert explore.people(by, filters), (by, filters)
        for start, end in _ranges(sample_wh):
            params = {"start": start, "end": end, "dimension": by, "filters": explore.filters_param(filters),
                      "limit": 500, "coarse": False}
            on_people = sample_wh.query("explore_breakdown", people=True, **params)
            on_usage = sample_wh.query("explore_breakdown", people=False, **params)
            assert on_people.height > 0 or (start, end) != _ranges(sample_wh)[0], (by, filters)   # whole ledger
            try:
                assert_frame_equal(on_people, on_usage, check_exact=True)
            except AssertionError as e:
                raise AssertionError(f"{by} {filters} {start}..{end}: {e}") from e


def test_which_breakdowns_read_people_monthly():
    assert explore.people("user_id", None) and explore.people("api_key", {"team": ["a"]})
    assert explore.people("team", {"user_id": ["u"]}) and explore.people("user_id", {"api_key": ["k"]})
    assert not explore.people("team", None)                 # spend_daily, smaller still ($coarse)
    assert not explore.people("model", {"user_id": ["u"]})  # the rollup has no model
    assert not explore.people("user_id", {"provider": ["openai"]})


def test_a_whole_year_reads_months_only_and_a_cut_month_its_days(sample_wh):
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    people_in = ("select count(*) from people_in_range(people_monthly, usage_daily, spend_daily, $start, $end) "
                 "where {}")
    monthly = sample_wh.scalar("select count(*) from people_monthly")
    assert sample_wh.scalar(people_in.format("true"), start=first, end=last) == monthly
    # a range from the 2nd day of the last month: that month's days come from usage_daily, the others not at all
    month = last.replace(day=1)
    start = sample_wh.scalar("select min(day) from usage_daily where day >= $m", m=month) + dt.timedelta(days=1)
    cut = sample_wh.scalar("select count(*) from usage_daily where day between $a and $b", a=start, b=last)
    assert 0 < cut < sample_wh.scalar("select count(*) from usage_daily where day >= $m", m=month)
    assert sample_wh.scalar(people_in.format("true"), start=start, end=last) == cut


def test_a_ledger_from_before_people_monthly_gets_it_at_open(sample_db, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(sample_db, copy)
    with Warehouse(copy) as wh:
        expected = wh.sql("select * from people_monthly order by all")
        wh.write(lambda cur: cur.execute("drop table people_monthly"))
    with Warehouse(copy) as wh:
        assert wh.sql(sql.load("checks/assert_people_monthly_matches_rollup")).is_empty()
        assert_frame_equal(wh.sql("select * from people_monthly order by all"), expected)


def test_the_check_finds_a_people_monthly_that_lags_the_rollup(sample_db, tmp_path):
    copy = tmp_path / "lag.duckdb"
    shutil.copy(sample_db, copy)
    with Warehouse(copy) as wh:
        month = wh.scalar("select max(month) from people_monthly")
        wh.write(lambda cur: cur.execute("delete from people_monthly where month = $m", {"m": month}))
        bad = wh.sql(sql.load("checks/assert_people_monthly_matches_rollup"))
        assert not bad.is_empty() and set(bad["month"].to_list()) == {month}
        wh.write(lambda cur: cur.execute("insert into people_monthly by name " + sql.load("writes/people_monthly_rows"),
                                         {"first_month": month, "last_month": month}))


@pytest.mark.parametrize("teams", [["customer-support", "legal"]])
def test_a_restricted_view_ranks_only_its_teams_people(sample_wh, teams):
    view = sample_wh.as_user("viewer@example.com", teams)
    first, last = sample_wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    for start, end in ((first, last), (first + dt.timedelta(days=10), last)):
        got = view.query("explore_filter_options", start=start, end=end).filter(dimension="user_id")
        want = view.sql(REFERENCE_FILTER_OPTIONS, start=start, end=end).filter(dimension="user_id")
        everyone = sample_wh.query("explore_filter_options", start=start, end=end).filter(dimension="user_id")
        assert_frame_equal(got, want)
        assert got.height < everyone.height or got["spend_usd"].sum() < everyone["spend_usd"].sum()


WHOLE_BILL_BEFORE = """
    select
        cast(date_trunc('month', day) as date) as month,
        team,
        sum(spend_usd) as token_usd,
        count(distinct user_id) as active_users
    from usage_daily
    where day between $start and $end and in_spend
    group by all
"""


def test_whole_bill_reads_people_monthly_and_answers_as_over_usage_daily(sample_wh):
    """Chargeback's whole bill per team and month (finance_whole_bill_monthly): token spend and active users from
    people_in_range, the same as the query's earlier read of usage_daily, over whole and cut months."""
    text = sql.load("queries/finance_whole_bill_monthly")
    head, rest = text.split("with tokens as (", 1)
    before = head + "with tokens as (" + WHOLE_BILL_BEFORE + "),\n" + rest.split("),\n", 1)[1]
    assert "people_in_range(" in text and "people_in_range(" not in before
    for start, end in _ranges(sample_wh):
        got = sample_wh.sql(text, start=start, end=end)
        want = sample_wh.sql(before, start=start, end=end)
        assert got.height > 0 or (start, end) != _ranges(sample_wh)[0]
        try:
            assert_frame_equal(got, want, check_exact=True)
        except AssertionError as e:
            raise AssertionError(f"{start}..{end}: {e}") from e
