"""usage_daily's reconciliation parts (rc_*, tc_*) are sums of per-row products of tokens and the prices in force,
each over the rows one filter selects. sql/writes/usage_daily_rows.sql sums the rows per group of equal prices and
equal filter outcomes first and multiplies those sums (tokens x price is linear); these tests hold its figures
equal to the per-row definition on one rollup group whose rows were priced differently within the day (a catalog
price that changes at noon), with and without a bill, with a list cost of zero and without quantities."""

from __future__ import annotations

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

import sql
from ingest import ingest_paths
from tests.conftest import write_csv
from warehouse import Warehouse, config

HEADER = ("ts,granularity,provider,model,project,team,requests,input_tokens,cache_read_tokens,cache_write_tokens,"
          "output_tokens,service_tier,cost_usd")

# the parts as finance_reconcile_detail and finance_reconcile_token_classes define them: per row, then summed
PER_ROW = """
with in_window as (
    select *, ts as price_at from usage
),
priced as (
    select * exclude (p_out), coalesce(p_out, 0) as p_out from token_class_prices(in_window)
),
parts as (
    select *,
        list_cost_usd is not null as is_priced,
        cost_usd is not null and list_cost_usd is not null as is_compared,
        (input_tokens * c_in + cache_read_tokens * c_in + cache_write_tokens * c_in
            + output_tokens * coalesce(c_out, 0)) / 1e6 as naive_list,
        (cache_read_tokens * (c_in - c_cr) + cache_write_tokens * (c_in - c_cw)) / 1e6 as cache_saving,
        (input_tokens * c_in + cache_read_tokens * c_cr + cache_write_tokens * c_cw
            + output_tokens * coalesce(c_out, 0)) / 1e6 as catalog_std,
        list_cost_usd / batch_factor as pre_batch,
        input_tokens * p_in * factor / 1e6 as list_input,
        cache_read_tokens * p_cr * factor / 1e6 as list_cache_read,
        cache_write_tokens * p_cw * factor / 1e6 as list_cache_write,
        output_tokens * p_out * factor / 1e6 as list_output
    from priced
)
select
    cast(ts as date) as day, model, service_tier,
    count(*) as row_count,
    count(*) filter (where list_cost_usd is null
        and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens > 0) as unpriced_rows,
    sum(coalesce(cost_usd, list_cost_usd)) as source_cost_usd,
    count(*) filter (where cost_usd is not null and is_priced) as rc_compared_rows,
    count(*) filter (where not is_priced) as rc_unpriced_rows,
    sum(cost_usd) filter (where is_priced) as rc_billed_usd,
    sum(list_cost_usd) filter (where cost_usd is not null) as rc_expected_usd,
    sum(naive_list) filter (where cost_usd is not null and c_in is not null) as rc_naive_list_usd,
    sum(cache_saving) filter (where cost_usd is not null and c_in is not null) as rc_cache_saving_usd,
    sum(catalog_std - pre_batch) filter (where cost_usd is not null and has_override and c_in is not null)
        as rc_negotiated_saving_usd,
    sum(pre_batch - list_cost_usd) filter (where cost_usd is not null and is_priced) as rc_batch_saving_usd,
    sum(pre_batch - catalog_std) filter (where cost_usd is not null and not has_override and c_in is not null)
        as rc_tier_extra_usd,
    sum(cost_usd) filter (where not is_priced) as rc_unpriced_billed_usd,
    sum(cost_usd) filter (where not is_priced
        and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens = 0) as rc_cost_only_usd,
    sum(list_cost_usd) filter (where cost_usd is null) as rc_list_only_usd,
    sum(input_tokens) filter (where is_compared) as tc_input_tokens,
    sum(list_input) filter (where is_compared) as tc_input_list_usd,
    sum(case when list_cost_usd > 0 then cost_usd * list_input / list_cost_usd else 0 end)
        filter (where is_compared) as tc_input_billed_usd,
    sum(cache_read_tokens) filter (where is_compared) as tc_cache_read_tokens,
    sum(list_cache_read) filter (where is_compared) as tc_cache_read_list_usd,
    sum(case when list_cost_usd > 0 then cost_usd * list_cache_read / list_cost_usd else 0 end)
        filter (where is_compared) as tc_cache_read_billed_usd,
    sum(cache_write_tokens) filter (where is_compared) as tc_cache_write_tokens,
    sum(list_cache_write) filter (where is_compared) as tc_cache_write_list_usd,
    sum(case when list_cost_usd > 0 then cost_usd * list_cache_write / list_cost_usd else 0 end)
        filter (where is_compared) as tc_cache_write_billed_usd,
    sum(output_tokens) filter (where is_compared) as tc_output_tokens,
    sum(list_output) filter (where is_compared) as tc_output_list_usd,
    sum(case when list_cost_usd > 0 then cost_usd * list_output / list_cost_usd else 0 end)
        filter (where is_compared) as tc_output_billed_usd
from parts
group by all
"""


def _frames(wh: Warehouse) -> tuple[pl.DataFrame, pl.DataFrame]:
    want = wh.sql(PER_ROW)
    got = wh.sql(f"select {', '.join(want.columns)} from usage_daily")
    keys = ["day", "model", "service_tier"]
    cast = {c: pl.Float64 for c, t in want.schema.items() if c not in keys}
    return got.cast(cast).sort(keys), want.cast(cast).sort(keys)


def test_the_parts_of_rows_priced_differently_within_one_day_equal_the_per_row_sums(tmp_path):
    path = tmp_path / "ledger.duckdb"
    Warehouse(path).close()
    # gpt-4o's catalog price changes at noon on 4 May 2026 (the catalog's own intervals start at any instant)
    con = duckdb.connect(str(path))
    [(n,)] = con.execute("select count(*) from catalog_prices where model = 'gpt-4o' and catalog_provider = 'openai' "
                         "and valid_from <= timestamp '2026-05-04 12:00' and valid_to > timestamp '2026-05-04 12:00'"
                         ).fetchall()
    assert n == 1
    con.execute("""
        insert into catalog_prices
        select * replace (timestamp '2026-05-04 12:00' as valid_from, input_mtok * 3 as input_mtok,
                          output_mtok * 2 as output_mtok, cache_read_mtok * 3 as cache_read_mtok)
        from catalog_prices
        where model = 'gpt-4o' and catalog_provider = 'openai'
            and valid_from <= timestamp '2026-05-04 12:00' and valid_to > timestamp '2026-05-04 12:00'""")
    con.execute("""
        update catalog_prices set valid_to = timestamp '2026-05-04 12:00'
        where model = 'gpt-4o' and catalog_provider = 'openai' and valid_from < timestamp '2026-05-04 12:00'
            and valid_to > timestamp '2026-05-04 12:00'""")
    con.close()
    with Warehouse(path) as wh:
        rows = [
            # one rollup group (day, model, project, team, standard tier): morning and afternoon prices,
            # billed and not, a zero list cost, no quantities at all
            "2026-05-04T09:00:00Z,hour,openai,gpt-4o,p1,t1,3,1000000,200000,0,100000,standard,3.10",
            "2026-05-04T10:00:00Z,hour,openai,gpt-4o,p1,t1,2,300000,0,0,70000,standard,1.50",
            "2026-05-04T15:00:00Z,hour,openai,gpt-4o,p1,t1,4,500000,100000,0,900000,standard,14.00",
            "2026-05-04T16:00:00Z,hour,openai,gpt-4o,p1,t1,1,250000,0,0,10000,standard,",
            "2026-05-04T17:00:00Z,hour,openai,gpt-4o,p1,t1,1,0,0,0,0,standard,0.25",
            "2026-05-04T18:00:00Z,hour,openai,gpt-4o,p1,t1,1,0,0,0,0,standard,",
            # the batch tier, and a model the catalog does not price
            "2026-05-04T11:00:00Z,hour,openai,gpt-4o,p1,t1,5,800000,0,0,200000,batch,1.90",
            "2026-05-04T19:00:00Z,hour,openai,gpt-4o,p1,t1,5,600000,0,0,300000,batch,4.40",
            "2026-05-04T12:30:00Z,hour,openai,acme-llm-9,p1,t1,1,1000,0,0,100,standard,5.00",
            "2026-05-04T13:30:00Z,hour,openai,acme-llm-9,p1,t1,1,0,0,0,0,standard,0.40",
        ]
        [r] = ingest_paths(wh, [write_csv(tmp_path / "a.csv", HEADER, *rows)])
        assert r.status == "loaded", r.error
        listed = wh.sql("select ts, list_cost_usd from usage where model = 'gpt-4o' and service_tier = 'standard' "
                        "and input_tokens > 0 order by ts")["list_cost_usd"].to_list()
        assert listed[2] / 3 > listed[0] / 10 > 0, "the afternoon row is priced at the new price"
        got, want = _frames(wh)
        assert got.height == 3
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)

        # a negotiated discount from that day: every part again, has_override on
        config.replace_overrides(wh, [config.PriceOverride(provider="openai", model="gpt-4o",
                                                          effective_from=rows[0][:10], discount_pct=15)])
        got, want = _frames(wh)
        assert got["rc_negotiated_saving_usd"].drop_nulls().len() == 2
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
        assert wh.sql(sql.load("checks/assert_rollup_reconcile_matches_usage")).is_empty()
