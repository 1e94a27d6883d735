-- simulate/period_negatives: whether any replayed request row of the period holds a negative count or amount (ingest
-- keeps them, with a warning; a credit is a day's or month's row, never a request's). The bucketed slider engine
-- reads the stored buckets (simulate/replay_bucket_rows.sql) only when none does: its bounds of a bucket
-- (simulate/buckets.py `_row_bounds`, over the ranked policy's candidates, request rows only) take every row's part
-- of a group's sums to be of the group's sign, which the sums alone cannot show. One filtered read per column, so
-- that each filter reaches the scan and a row group whose least value is >= 0 is skipped by its statistics.
-- Grain: one row. Params: $start, $end_excl (timestamps: the period, end exclusive).
with neg as (
    select 1 from replay_stored where ts >= $start and ts < $end_excl and requests < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and input_tokens < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and cache_read_tokens < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and cache_write_tokens < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and output_tokens < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and cost_usd < 0
        and granularity = 'request'
    union all
    select 1 from replay_stored where ts >= $start and ts < $end_excl and list_cost_usd < 0
        and granularity = 'request'
),

final as (
    select exists (select 1 from neg) as any_negative
)

select * from final
