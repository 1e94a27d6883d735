-- insert_new_rows: staged rows that passed validation and are not in the ledger yet (natural key row_key).
-- Only the ledger rows in the staged time window are compared, so zone maps skip the rest of the table.
-- params: $ingest_id, $format
insert into usage_raw
with good as (
    select * from staged
    where _errors is null
    qualify row_number() over (partition by row_key order by _row) = 1
),
window_keys as (
    select row_key from usage_raw
    where ts between (select min(ts) from good) and (select max(ts) from good)
),
final as (
    select
        ts, granularity, provider, model, model_raw, account, project, api_key, user_id, team, workload,
        coalesce(operation, 'chat') as operation,
        coalesce(service_tier, 'standard') as service_tier,
        requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        cost_usd,
        $format as source_format,
        $ingest_id as ingest_id,
        row_key,
        hash(account, project, api_key, user_id, provider, model, team, workload) as dim_key
    from good
    anti join window_keys using (row_key)
)
select * from final
