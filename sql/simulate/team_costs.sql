-- simulate/team_costs: per team, the replay's baseline and scenario cost (what `Result.by("team")` of
-- simulate/replay.sql gives, the same figures to the cent) from the rows summed into groups, for Budgets' scenario
-- impact. Used by simulate/team_costs.py for the scenarios it can group (at most one ranked policy, by request,
-- picked by a stored key; no conversations, no per-row rates, no token bounds); any other runs the replay.
-- Grain: one row per team.
-- Params: those of simulate/replay_rows.sql; the policies' `$p{i}_*` values and target prices (simulate/plan.py);
--   $edge_bk, $edge_take, $edge_lo, $edge_hi (simulate/team_costs_edge.sql's row; nulls when nothing is taken).
-- Relation: `team_cost_groups` (simulate/team_costs_groups.sql).
-- Template slots (block comments named replay_rows, rate_columns, joins, first_key, edge_filter, group_columns,
-- summed, static_flags, flag_names, rank_where, order_keys, policy_ctes, last_step, sums) are filled by
-- simulate/team_costs.py from the plan and the fragments of simulate/policies.py; every value is bound.
-- Method: a request row's claims depend only on the columns a policy's match reads, its granularity, and whether
-- its key is at most the ranked policy's threshold; its cost under a policy (its own cost x a ratio or discount,
-- or its tokens x the target's prices of its time interval) is linear in its cost and tokens. So a group's claims
-- are its rows', except in the bucket of the ranked policy's first key that holds the last row taken (the edge):
-- every bucket before it is taken whole, every one after it left, and the edge's rows are read again from the
-- stored rows (a range of the key, then the bucket), ranked by the replay's whole order key, and the first `take`
-- of its eligible, still unclaimed request rows taken. Groups and edge rows then go through the replay's own
-- policy chain (simulate/replay.py chain_ctes).
-- Ties: rows equal in the whole order key (total tokens, time and the hash of the row's identity) are ranked by
-- the replay's scan position; here by cost and team: they are the same request identity, so in practice the same
-- team and cost.
with source_rows as (
    /*replay_rows*/
),

edge_rows as (
    select
        s.*,
        /*first_key*/ as k0,
        key_bucket(/*first_key*/) as bk
        /*rate_columns*/
    from source_rows as s
    /*joins*/
    where /*edge_filter*/
),

edge_flagged as (
    select * /*static_flags*/
    from edge_rows
    where bk = cast($edge_bk as double)
),

edge_ranked as (
    select
        *,
        /*rank_where*/ as ranked,
        row_number() over (partition by /*rank_where*/ order by /*order_keys*/, base_cost, team) as rk
    from edge_flagged
),

units as (
    select * exclude (bk, k_lo, k_hi) /*static_flags*/, bk < cast($edge_bk as double) as before_edge
    from team_cost_groups
    where bk is distinct from cast($edge_bk as double)
    union all by name
    select /*group_columns*/, cast(1 as bigint) as n, /*summed*/ /*flag_names*/,
        ranked and rk <= $edge_take as before_edge
    from edge_ranked
),

step_0 as (
    select *, cast(1.0 as double) as rem_0
    from units
),

/*policy_ctes*/

final as (
    select
        team,
        /*sums*/
    from /*last_step*/
    where not unpriced
    group by team
)

select * from final
