-- insert_new_rows: the rows this load adds to the ledger: every staged row that passed validation except those
-- already loaded or superseded by a later line of the file (temp table fates: writes/classify_requests.sql,
-- writes/classify_statement.sql). params: $ingest_id, $format
insert into usage_raw
with final as (
    select
        ts, granularity, provider, model, model_raw, account, project, api_key, user_id, team, workload,
        operation, service_tier,
        requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        cost_usd,
        $format as source_format,
        $ingest_id as ingest_id,
        row_key,
        -- the dimension set attribution is decided on; labels last, so a row without labels (null) keys as it
        -- did before migration 024
        hash(account, project, api_key, user_id, provider, model, team, workload, labels) as dim_key,
        session_id,
        labels
    from staged
    where _errors is null
      and _row not in (select _row from fates where _fate in ('already_loaded', 'superseded_in_file'))
)
select * from final
