-- spend_daily_rows: the rows of `spend_daily`, the rollup the spend pages read over long ranges: `usage_daily`
-- without its per-person and per-key dimensions (user_id, api_key) and labels, for the days $first_day..$last_day
-- (both null: every day). A gateway year keeps tens of thousands of users and keys a day in `usage_daily`
-- (16.1 M rows for 100 M requests); without them the same year is ~12.7 k rows, so a whole-year total, a team
-- ranking or a chargeback statement sums thousands of rows, not millions (docs/benchmarks.md, "Spend queries at
-- 100 M"). Every measure is the sum of `usage_daily`'s (counts, tokens, money and the reconciliation parts all
-- add up); source_kind, in_spend and in_replay belong to provider x day x source_format, so they stay keys.
-- warehouse/ledger.py (refresh_derived) creates the table with usage_daily's own column types and inserts these
-- rows by name (the sums cast back to those types), or, on an ordinary write, deletes the days the write touched
-- and inserts them again from it, right after usage_daily's.
-- Grain: one row per day x provider x model x account x project x team x workload x operation x service_tier x
-- granularity x source_format (x its source_kind, in_spend, in_replay).
-- Params: $first_day, $last_day (dates, or both null)
with in_days as (
    select *
    from usage_daily
    where (cast($first_day as date) is null or day >= cast($first_day as date))
        and (cast($last_day as date) is null or day <= cast($last_day as date))
),
final as (
    select
        day, provider, model, account, project, team, workload, operation, service_tier, granularity,
        source_format, source_kind, in_spend, in_replay,
        sum(columns(* exclude (day, provider, model, account, project, api_key, user_id, team, workload, operation,
            service_tier, granularity, source_format, labels, source_kind, in_spend, in_replay)))
    from in_days
    group by
        day, provider, model, account, project, team, workload, operation, service_tier, granularity,
        source_format, source_kind, in_spend, in_replay
)
select * from final
