-- copy_ingest_parts: a file whose bytes are already loaded (and not replaced since) is not read again: its parts
-- are the earlier load's, everything that load kept now counted as already loaded. params: $ingest_id, $earlier
insert into ingest_parts
with earlier as (
    select
        case when part = 'loaded' then 'already_loaded' else part end as part,
        rows, requests, cost_usd, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        reasoning_tokens
    from ingest_parts
    where ingest_id = $earlier
),
final as (
    select $ingest_id as ingest_id, part, sum(rows) as rows, sum(requests) as requests, sum(cost_usd) as cost_usd,
        sum(input_tokens) as input_tokens, sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens, sum(output_tokens) as output_tokens,
        sum(reasoning_tokens) as reasoning_tokens
    from earlier
    group by part
)
select * from final
