-- replay_buckets_rows: the rows of `replay_buckets`, `replay_stored` summed per day x team x provider x model x
-- project x workload x service tier x granularity x priced x bucket of `total_tokens` (macro key_bucket, migration
-- 032), for the days $first_day..$last_day (both null: every day). Budgets' scenario impact
-- (simulate/team_costs.py) reads it instead of the rows when a scenario's claims are the same for every row of such
-- a group: the 8 weeks of the 100 M year are ~15 M stored rows and ~0.3 M rows here. Every measure is a sum or a
-- bound of `replay_stored`'s; warehouse/ledger.py creates and refreshes it with `replay_stored` (per written day;
-- rebuilt with it). sql/checks/assert_replay_buckets_match_stored.sql checks it against `replay_stored`.
-- Grain: one row per day x team x provider x model x project x workload x service_tier x granularity x unpriced x
-- bucket.
-- Params: $first_day, $last_day (dates, or both null).
with in_days as (
    select *
    from replay_stored
    where (cast($first_day as date) is null or ts >= cast($first_day as date))
        and (cast($last_day as date) is null or ts < cast($last_day as date) + interval 1 day)
),
final as (
    select
        cast(ts as date) as day, team, provider, model, project, workload, service_tier, granularity,
        coalesce(cost_usd, list_cost_usd) is null as unpriced,
        key_bucket(total_tokens) as bk,
        count(*) as n,
        sum(requests) as requests,
        -- billed, else list (the replay's baseline cost), and list, as exact decimals
        sum(coalesce(cost_usd, list_cost_usd)) as base_cost,
        sum(list_cost_usd) as list_cost,
        sum(input_tokens) as input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        sum(output_tokens) as output_tokens,
        min(total_tokens) as k_lo,
        max(total_tokens) as k_hi
    from in_days
    group by all
)
select * from final
