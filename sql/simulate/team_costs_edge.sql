-- simulate/team_costs_edge: of the groups (simulate/team_costs_groups.sql), the bucket of the ranked policy's first
-- key that holds its last request row taken (row floor(share x N) of its N eligible, still unclaimed request rows,
-- as the replay's `ord_i`/`thr_i`), how many of that bucket's eligible rows are taken, and the range of keys of all
-- the bucket's rows (so the next read scans a range of a stored column). No row when nothing is taken.
-- Grain: zero or one row.
-- Params: the policies' `$p{i}_*` values (simulate/plan.py). Relation: `team_cost_groups` (the groups).
-- Template slots (block comments named static_flags, rank_where, share) are filled by simulate/team_costs.py.
with flagged as (
    select * /*static_flags*/
    from team_cost_groups
),

hist as (
    select bk, sum(n) as n, sum(sum(n)) over (order by bk) - sum(n) as below
    from flagged
    where /*rank_where*/
    group by bk
),

cut as (
    select floor(cast(/*share*/ as decimal(18, 9)) * cast(coalesce(sum(n), 0) as bigint)) as k
    from hist
),

ranges as (
    select bk, min(k_lo) as lo, max(k_hi) as hi
    from team_cost_groups
    group by bk
),

final as (
    select h.bk, cast(c.k - h.below as bigint) as take, r.lo, r.hi
    from hist as h
    cross join cut as c
    join ranges as r on r.bk = h.bk
    where h.below < c.k and c.k <= h.below + h.n
)

select * from final
