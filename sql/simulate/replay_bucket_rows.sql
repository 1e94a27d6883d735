-- simulate/replay_bucket_rows: the replay's rows (simulate/replay_rows.sql) as the stored buckets of total tokens
-- give them: each `replay_buckets` row (replay_stored summed per day, dimensions, granularity, priced and bucket of
-- `total_tokens`, macro key_bucket) of the period and scope is one row here, its sums in the per-row columns and
-- its ledger rows in `n`. The bucketed slider engine (simulate/buckets.py) reads it instead of the rows for a
-- `pick: simplest` scenario whose claims a group can carry (simulate/team_costs.py `groupable`, `stored_groups`):
-- the default 90 days of the 100 M year are 24.77 M stored rows and ~0.3 M bucket rows.
-- `total_tokens` is the least total of the bucket's rows over the whole period and scope (`k_lo`), the same for
-- every group of one bucket: the slider's buckets are the stored ones, and a bucket's rows are those whose total
-- lies from its least total up to the next bucket's (read again when a move refines it). `ts` is the day's
-- midnight, `row_hash` 0: no figure of a group reads them (the tie-break is read again with the rows).
-- Grain: one row per `replay_buckets` row in the period and scope.
-- Params: $start, $end_excl (midnights: the period, end exclusive); $scope_* (the scenario's scope).
-- Template slot (block comment named scope) filled by simulate/plan.py; every value is bound, never spliced.
with in_period as (
    select *
    from replay_buckets
    where day >= cast($start as date) and day < cast($end_excl as date)
        and /*scope*/
),

final as (
    select
        cast(day as timestamp) as ts, granularity, provider, model, project, team, workload, service_tier,
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(cache_read_tokens as bigint) as cache_read_tokens,
        cast(cache_write_tokens as bigint) as cache_write_tokens,
        cast(output_tokens as bigint) as output_tokens,
        -- the stored sums are exact decimals: as doubles, like a row's own values
        cast(base_cost as double) as base_cost,
        cast(list_cost as double) as list_cost,
        unpriced,
        min(k_lo) over (partition by bk) as total_tokens,
        cast(0 as ubigint) as row_hash,
        n
    from in_period
)

select * from final
