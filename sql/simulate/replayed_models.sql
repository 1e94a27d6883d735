-- simulate/replayed_models: every (provider, model) the replay can read, for the map of a row's model to its catalog
-- id that a cache policy's row prices join on (simulate/plan.py `row_map`). From the rollup `key_daily` (its
-- `in_replay` rows: `usage_replay`'s per provider and day, summed per key and day), not from the rows: a pair
-- outside the period only adds an unused entry to the map, and the rows themselves are re-priced on every read
-- (a whole-ledger scan of `usage_replay`: ~2.5 cpu-s per 10 M rows, docs/benchmarks.md "eighth session").
-- Grain: one row per (provider, model) of the ledger's replayed rows. Params: none.
with final as (
    select distinct provider, model
    from key_daily
    where in_replay
)

select * from final
