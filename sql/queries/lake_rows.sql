-- lake_rows: one lake partition (month x provider, warehouse/lake.py): the `usage_keyed` view's rows, i.e. the
-- ledger's canonical columns with model names, prices and attribution resolved, plus what an engine without this
-- ledger needs to run the same SQL: `in_spend` and `in_replay` (source_choice: `usage_replay` is the rows with
-- in_replay), `row_hash` (the replay's tie-break and random-pick key, computed here exactly as
-- sql/simulate/replay_rows.sql computes it, as a signed bigint whose order is the unsigned hash's order:
-- bits xor 2^63), `session_hash` (DuckDB's hash(session_id), the replay's conversation key for `unit: session`, the
-- same signed form; null without a session id), and `row_key` as 32 hex digits. `provider` is left out: the partition folder names it
-- (provider=P), as Hive-partitioned readers (Spark, DuckDB hive_partitioning) expect.
-- Grain: one row per usage_raw row of the month and provider.
-- Params: $month_start, $month_end (dates: the month's first and last day), $provider.
with keyed as (
    select
        u.* exclude (row_key),
        lower(lpad(hex(u.row_key), 32, '0')) as row_key,
        hash(u.ts, u.provider, u.model_raw, u.account, u.project, u.api_key, u.user_id, u.requests, u.input_tokens,
             u.cache_read_tokens, u.cache_write_tokens, u.output_tokens, u.ingest_id) as row_hash_u,
        case when u.session_id is not null then hash(u.session_id) end as session_hash_u,
        coalesce(s.in_spend, true) as in_spend,
        coalesce(s.in_replay, false) as in_replay
    from usage_keyed as u
    left join source_choice as s
        on s.provider = u.provider and s.day = cast(u.ts as date) and s.source_format = u.source_format
    where u.ts >= $month_start and u.ts < $month_end + interval 1 day and u.provider = $provider
),
final as (
    select
        * exclude (row_hash_u, session_hash_u, provider),
        cast(row_hash_u::hugeint - 9223372036854775808 as bigint) as row_hash,
        cast(session_hash_u::hugeint - 9223372036854775808 as bigint) as session_hash
    from keyed
)
select * from final
