-- simulate/cache_reads: whether any ledger row in the period read tokens from a prompt cache. Without one no moved
-- request can lose cache, and the replay leaves out its cache-loss accounting (simulate/plan.py): an exact
-- shortcut, so it reads `usage_raw` itself (a superset of the replayed rows: a false "yes" only costs the
-- accounting, which then finds nothing) rather than the priced view.
-- Grain: one row. Params: $start, $end_excl (timestamps: the period, end exclusive).
with period_rows as (
    select cache_read_tokens
    from usage_raw
    where ts >= $start and ts < $end_excl
),

final as (
    select coalesce(bool_or(cache_read_tokens > 0), false) as any_cache_reads
    from period_rows
)

select * from final
