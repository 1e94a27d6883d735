-- insert_ingest_parts: the file's own totals as read and where each went: file = loaded + already_loaded +
-- superseded_in_file + rejected, measure by measure (restated rows are loaded). Grain: one row per part.
-- params: $ingest_id (reads temp tables staged and fates)
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
    select case when f._fate is null or f._fate = 'restated' then 'loaded' else f._fate end, s.requests, s.cost_usd,
        s.input_tokens, s.cache_read_tokens, s.cache_write_tokens, s.output_tokens, s.reasoning_tokens
    from staged as s
    left join fates as f using (_row)
    where s._errors is null
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
