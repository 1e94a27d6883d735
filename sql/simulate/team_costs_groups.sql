-- simulate/team_costs_groups: the replay's rows in the period and scope summed into groups, for the team totals
-- read as groups (simulate/team_costs.py; the method: simulate/team_costs.sql). A group's rows agree on what every
-- claim of a groupable scenario reads: the team, the columns the policies' matches read, the granularity, whether
-- priced, the target prices of their time interval, and the bucket of the ranked policy's first order key (width
-- 2^(1/16) on a signed log scale, so the buckets are ordered as the key; a null key, ranked last by the replay, in
-- the last bucket).
-- Grain: one row per group (a few thousand for a year of traffic).
-- Params: those of simulate/replay_rows.sql and the target prices' (simulate/plan.py).
-- Template slots (block comments named replay_rows, rate_columns, joins, first_key, group_columns, group_sums) are
-- filled by simulate/team_costs.py; every value is bound, never spliced.
with source_rows as (
    /*replay_rows*/
),

keyed as (
    select
        s.*,
        /*first_key*/ as k0,
        coalesce(floor(sign(cast(/*first_key*/ as double)) * log2(abs(cast(/*first_key*/ as double)) + 1) * 16),
                 cast('infinity' as double)) as bk
        /*rate_columns*/
    from source_rows as s
    /*joins*/
),

final as (
    select
        /*group_columns*/, bk,
        count(*) as n,
        min(k0) as k_lo,
        max(k0) as k_hi,
        /*group_sums*/
    from keyed
    group by all
)

select * from final
