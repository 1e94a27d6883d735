-- simulate/frontier_count_daily: simulate/frontier_count.sql's figure for a scenario without a scope, from the
-- rollup `key_daily` (its `in_replay` rows are `usage_replay`'s, counted per key and day in `row_count`): the engine
-- is picked without a pass over the period's rows (that count re-priced every row: 0.9-1.1 cpu-s per 10 M rows,
-- 2.3-3.2 at 100 M; docs/benchmarks.md "What-if cold at 100 M, eighth session"). A team-restricted cursor sees its
-- teams' `key_daily`, as it sees its teams' `usage_replay`.
-- Grain: one row. Params: $start, $end_excl (timestamps at midnight: the period, end exclusive).
with final as (
    select coalesce(sum(row_count), 0) as rows
    from key_daily
    where in_replay
        and day >= cast($start as date)
        and day < cast($end_excl as date)
)

select * from final
