-- simulate/team_costs: per team, the replay's baseline and scenario cost (what `Result.by("team")` of
-- simulate/replay.sql gives, the same figures to the cent) read as groups instead of rows, for Budgets' scenario
-- impact. Used by simulate/team_costs.py for the scenarios it can group (at most one ranked policy, by request,
-- picked by a stored key; no conversations, no per-row rates, no token bounds); any other runs the replay.
-- Grain: one row per team.
-- Params: those of simulate/replay_rows.sql; the policies' `$p{i}_*` values and target prices (simulate/plan.py).
-- Template slots (block comments named replay_rows, rate_columns, joins, first_key, group_columns, static_flags,
-- rank_where, share, order_keys, took, policy_ctes, last_step, sums) are filled by simulate/team_costs.py from the
-- plan and the fragments of simulate/policies.py; every value is bound, never spliced.
-- Method: a request row's claims depend only on the columns a policy's match reads, its granularity, and whether
-- its key is at most the ranked policy's threshold; its cost under a policy (its own cost × a ratio or discount,
-- or its tokens × the target's prices of its time interval) is linear in its cost and tokens. So the rows are
-- summed per (team, match columns, granularity, target price interval, bucket of the ranked policy's first order
-- key): buckets of width 2^(1/16) on a signed log scale, so ordered as the key. Each bucket's eligible, still
-- unclaimed request rows are counted; the bucket holding row floor(share x N) (`edge`) is read again as rows and
-- ranked by the replay's whole order key; every bucket before it is taken whole, every one after it left. The
-- groups and the edge's rows then go through the replay's own policy chain (simulate/replay.py chain_ctes).
-- Speed: one scan of the stored rows summed into a few thousand groups, and a filtered scan of the edge bucket
-- (~1-4 % of the rows) with one small sort, instead of the replay's materialised rows, sort of every eligible row
-- and per-part aggregate (docs/benchmarks.md "tenth session").
-- Ties: rows equal in the whole order key (time, total tokens and the hash of the row's identity) are ranked by
-- the replay's scan position; here by cost and team — they are the same request identity, so in practice the
-- same team and cost.
with source_rows as not materialized (
    /*replay_rows*/
),

-- read twice, never stored: the groups' pass and the edge bucket's filtered scan
keyed as not materialized (
    select
        s.*,
        /*first_key*/ as k0,
        -- monotone in the key (nulls, ranked last by the replay, in the last bucket)
        coalesce(floor(sign(cast(/*first_key*/ as double)) * log2(abs(cast(/*first_key*/ as double)) + 1) * 16),
                 cast('infinity' as double)) as bk
        /*rate_columns*/
    from source_rows as s
    /*joins*/
),

grouped as materialized (
    select
        /*group_columns*/, bk,
        count(*) as n,
        min(k0) as k_lo,
        max(k0) as k_hi,
        /*group_sums*/
    from keyed
    group by all
),

flagged as materialized (
    select * /*static_flags*/
    from grouped
),

-- per bucket, the ranked policy's eligible, still unclaimed request rows, and how many come before the bucket
hist as (
    select bk, sum(n) as n, sum(sum(n)) over (order by bk) - sum(n) as below
    from flagged
    where /*rank_where*/
    group by bk
),

cut as (
    select floor(cast(/*share*/ as decimal(18, 9)) * coalesce(sum(n), 0)) as k
    from hist
),

-- the bucket of the last row taken, its range of keys over all its rows, and how many of its rows are taken (no
-- row when nothing is taken)
edge as (
    select h.bk, c.k - h.below as take, r.lo, r.hi
    from hist as h
    cross join cut as c
    join (select bk, min(k_lo) as lo, max(k_hi) as hi from grouped group by bk) as r on r.bk = h.bk
    where h.below < c.k and c.k <= h.below + h.n
),

-- every row of that bucket (a stored key's range first: the bucket's own test only on rows in it)
edge_rows as (
    select k.* /*static_flags*/
    from keyed as k
    cross join edge as e
    where (k.k0 between e.lo and e.hi or (k.k0 is null and e.bk = cast('infinity' as double))) and k.bk = e.bk
),

edge_ranked as (
    select
        *,
        /*rank_where*/ as ranked,
        row_number() over (partition by /*rank_where*/ order by /*order_keys*/, base_cost, team) as rk
    from edge_rows
),

units as (
    select * exclude (bk, k_lo, k_hi), bk < (select bk from edge) as before_edge
    from flagged
    where bk is distinct from (select bk from edge)
    union all by name
    select /*group_columns*/, cast(1 as bigint) as n, /*summed*/ /*flag_names*/,
        ranked and rk <= (select take from edge) as before_edge
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
