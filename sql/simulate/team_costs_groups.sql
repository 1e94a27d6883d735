-- simulate/team_costs_groups: the replay's rows in the period and scope summed into groups, for the team totals
-- read as groups (simulate/team_costs.py; the method: simulate/team_costs.sql). A group's rows agree on what every
-- claim of a groupable scenario reads: the team, the columns the policies' matches read, the granularity, whether
-- priced, the target prices of their time interval, and the bucket of the ranked policy's first order key (macro
-- key_bucket, migration 032: ordered as the key). simulate/team_costs_groups_stored.sql reads the same groups from
-- the stored buckets of `total_tokens` when the scenario allows it; this file reads the rows (a `random` pick's key,
-- a target price changing within a day, a scope by tokens).
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
        key_bucket(/*first_key*/) as bk
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
