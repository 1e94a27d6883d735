-- key_daily_rows: the rows of `key_daily`, the rollup the alert detectors read (anomalies per key, regressions per
-- key: queries finance_daily_spend_detail and finance_regression_daily): `usage_daily` without its per-person
-- dimension (user_id) and labels, for the days $first_day..$last_day (both null: every day). The detectors read
-- 35 and ~215 days back from the alerts' week; at 100 M request rows a day of `usage_daily` holds ~45 k rows, nearly
-- all of them one per user, while a gateway has a few dozen API keys (27 in the bench's year): 1,399 rows here against
-- 1,559,316 for the 100 M year's first 36.5 days (docs/benchmarks.md, "Pages at 100 M, seventh session"). Every
-- measure is the sum of `usage_daily`'s; warehouse/ledger.py creates and refreshes it like `spend_daily`.
-- Grain: one row per day x provider x model x account x project x api_key x team x workload x operation x
-- service_tier x granularity x source_format (x its source_kind, in_spend, in_replay).
-- Params: $first_day, $last_day (dates, or both null)
with in_days as (
    select *
    from usage_daily
    where (cast($first_day as date) is null or day >= cast($first_day as date))
        and (cast($last_day as date) is null or day <= cast($last_day as date))
),
final as (
    select
        day, provider, model, account, project, api_key, team, workload, operation, service_tier, granularity,
        source_format, source_kind, in_spend, in_replay,
        sum(columns(* exclude (day, provider, model, account, project, api_key, user_id, team, workload, operation,
            service_tier, granularity, source_format, labels, source_kind, in_spend, in_replay)))
    from in_days
    group by
        day, provider, model, account, project, api_key, team, workload, operation, service_tier, granularity,
        source_format, source_kind, in_spend, in_replay
)
select * from final
