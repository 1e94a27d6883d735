-- known_requests: the ledger rows that carry an id of this request file (same provider and id: row_key), with
-- their content hash, for writes/classify_requests.sql. A restated request keeps its time, so only the file's
-- own window is searched ($lo..$hi: its first and last good row's time, one day either side); bound as values,
-- the window prunes usage_raw by its zone maps on ts (each file's rows are appended together, so a day's rows
-- sit in few row groups) and the look-up reads the rows of those days, not the ledger. Narrow: key and hash only.
-- Grain: one row per matching usage_raw row (none for a new day's file). params: lo, hi (timestamps)
create or replace temp table known as
with ids as (
    select row_key from staged where _errors is null
),
final as (
    select
        u.row_key,
        usage_content_hash(u.ts, u.granularity, u.provider, u.model, u.model_raw, u.account, u.project, u.api_key,
            u.user_id, u.team, u.workload, u.operation, u.service_tier, u.requests, u.input_tokens,
            u.cache_read_tokens, u.cache_write_tokens, u.output_tokens, u.reasoning_tokens, u.cost_usd) as _old_h
    from usage_raw as u
    where u.ts between $lo and $hi
      and u.row_key in (select row_key from ids)
)
select * from final
