-- simulate/team_costs_groups_stored: the groups of simulate/team_costs_groups.sql read from `replay_buckets` (the
-- stored rows summed per day, dimensions and bucket of `total_tokens`: sql/writes/replay_buckets_rows.sql) instead
-- of the rows: the 8 weeks of the 100 M year are ~15 M stored rows and ~0.3 M bucket rows. simulate/team_costs.py
-- uses it when the ranked policy (if any) picks by total tokens first (`simplest`), the scope has no token bounds,
-- and every target price changes at midnight (a day's rows are then in one price interval: `ts` is the day's start).
-- Grain: one row per group.
-- Params: $start, $end_excl (midnights: the period, end exclusive); $scope_* (the scenario's scope); the target
--   prices' (simulate/plan.py).
-- Template slots (block comments named scope, rate_columns, group_columns, group_sums) are filled by
-- simulate/team_costs.py; every value is bound, never spliced.
with in_period as (
    select *, cast(day as timestamp) as ts
    from replay_buckets
    where day >= cast($start as date) and day < cast($end_excl as date)
        and /*scope*/
),

keyed as (
    select * /*rate_columns*/
    from in_period
),

final as (
    select
        /*group_columns*/, bk,
        sum(n) as n,
        min(k_lo) as k_lo,
        max(k_hi) as k_hi,
        /*group_sums*/
    from keyed
    group by all
)

select * from final
