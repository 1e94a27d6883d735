-- lake_partitions: the lake's partitions (warehouse/lake.py) as the ledger holds them now, with a fingerprint of
-- their priced rows (prices, attribution, source choice, session ids), so an export after a price, rule or alias
-- change rewrites only the partitions whose rows changed. It prices every row it reads: an ordinary export reads
-- it only for the months it writes (their fingerprints go in the manifest) and compares the cheap
-- sql/queries/lake_partitions_raw.sql instead.
-- Grain: one row per month x provider with usage in [$ts_from, $ts_to). Params: $ts_from, $ts_to (timestamps,
-- bound as values so DuckDB's zone maps on ts skip the other months).
with rows as (
    select
        strftime(u.ts, '%Y-%m') as month,
        u.provider,
        hash(u.row_key, u.ts, u.model, u.team, u.workload, u.requests, u.input_tokens, u.cache_read_tokens,
             u.cache_write_tokens, u.output_tokens, u.cost_usd, u.list_cost_usd, s.in_spend, s.in_replay,
             u.session_id) as h
    from usage_keyed as u
    left join source_choice as s
        on s.provider = u.provider and s.day = cast(u.ts as date) and s.source_format = u.source_format
    where u.ts >= $ts_from and u.ts < $ts_to
),
final as (
    select month, provider, count(*) as row_count, cast(sum(h::hugeint) % 1000000007 as bigint) as fingerprint
    from rows
    group by month, provider
)
select * from final order by month, provider
