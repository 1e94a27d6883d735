-- insert_ingest_parts: the file's own totals as read and where each went: file = loaded + already_loaded +
-- superseded_in_file + rejected, measure by measure (restated rows are loaded). Grain: one row per part.
-- params: $ingest_id (reads temp tables staged and incoming)
insert into ingest_parts
with tagged as (
    select 'file' as part, requests, cost_usd, input_tokens, cache_read_tokens, cache_write_tokens,
        output_tokens, reasoning_tokens
    from staged
    union all
    select 'rejected', requests, cost_usd, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
        reasoning_tokens
    from staged
    where _errors is not null
    union all
    select case when _fate = 'restated' then 'loaded' else _fate end, requests, cost_usd, input_tokens,
        cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens
    from incoming
),
final as (
    select
        $ingest_id as ingest_id, part, count(*) as rows, sum(requests) as requests, sum(cost_usd) as cost_usd,
        sum(input_tokens) as input_tokens, sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens, sum(output_tokens) as output_tokens,
        sum(reasoning_tokens) as reasoning_tokens
    from tagged
    group by part
)
select * from final
