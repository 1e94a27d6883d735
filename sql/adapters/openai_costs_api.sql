-- openai-costs-api: OpenAI Costs API pages (GET /v1/organization/costs) -> canonical money-only rows.
-- Grain: one row per result, i.e. per daily bucket x group-by combination (line_item, project, key, user,
-- api_source). `src` is one row per page (a page, a JSON array of pages, or JSON lines of pages); buckets and
-- results are unnested here and empty buckets (results: []) yield no rows.
-- Traps (formats.md §1b): amount.value is USD DOLLARS (a number, sometimes a string); start_time/end_time are
-- Unix seconds (UTC); line_item is free text "<model>, <token class>" with an optional "priority | " prefix,
-- ", long context" suffix, "batch "/"flex " class prefix and modality words ("… audio, input"); items without
-- a model (tool calls, storage) keep model `unknown`, operation `other`, and the item text as model_raw.
-- Cost rows are not requests and carry no tokens: requests and every token count are 0.
with buckets as (
    select
        p._row as page_row,
        unnest(p.data) as bucket,
        generate_subscripts(p.data, 1) as bucket_i
    from src as p
),
results as (
    select
        b.page_row,
        b.bucket_i,
        json_extract_string(to_json(b.bucket), ['$.start_time', '$.end_time']) as t,
        unnest(b.bucket.results) as result,
        generate_subscripts(b.bucket.results, 1) as result_i
    from buckets as b
),
fields as (
    select
        row_number() over (order by page_row, bucket_i, result_i) as _row,
        try_cast(try_cast(t[1] as double) as bigint) as start_s,
        try_cast(try_cast(t[2] as double) as bigint) as end_s,
        t[1] as start_txt,
        json_extract_string(to_json(result), [
            '$.amount.value',       -- 1
            '$.amount.currency',    -- 2
            '$.line_item',          -- 3
            '$.project_id',         -- 4
            '$.api_key_id',         -- 5
            '$.user_id',            -- 6
            '$.api_source'          -- 7
        ]) as f
    from results
),
cells as (
    select
        _row,
        start_s,
        end_s,
        start_txt,
        nullif(trim(f[1]), '') as amount_txt,
        lower(nullif(trim(f[2]), '')) as currency,
        nullif(trim(f[3]), '') as line_item,
        nullif(trim(f[4]), '') as project_id,
        nullif(trim(f[5]), '') as api_key_id,
        nullif(trim(f[6]), '') as user_id,
        lower(nullif(trim(f[7]), '')) as api_source
    from fields
),
prefix as (
    -- "priority | <model>, <class>[, long context]"
    select
        *,
        regexp_matches(coalesce(line_item, ''), '^priority\s*\|', 'i') as is_priority,
        regexp_replace(regexp_replace(coalesce(line_item, ''), '^priority\s*\|\s*', '', 'i'),
                       ',\s*long context\s*$', '', 'i') as item
    from cells
),
split as (
    select
        *,
        trim(regexp_extract(item, '^(.+),\s*([^,]+)$', 1)) as model_part,
        lower(trim(regexp_extract(item, '^(.+),\s*([^,]+)$', 2))) as token_class
    from prefix
),
parsed as (
    select
        *,
        -- a known token class after the last comma makes it a model line item; anything else is a tool/storage item
        regexp_matches(token_class,
            '^((batch|flex|priority) )?(input|output|cached input|cache writes?|cache write input|'
            || 'input_tokens|output_tokens|cached_input_tokens|input_cached_tokens|cache_write_tokens|'
            || 'input_cache_write_tokens|audio|image|images|characters|seconds|minutes)$') as is_model_item,
        lower(regexp_extract(model_part, '\s(audio|image|text)$', 1)) as modality,
        regexp_replace(model_part, '\s+(audio|image|text)$', '') as model_name
    from split
),
final as (
    select
        _row,
        -- natural key: bucket and every group-by value; shared with openai-cost-csv so the API pages and the
        -- dashboard export of one bucket load once
        concat_ws('|', 'cost', start_s, end_s - start_s, coalesce(line_item, ''), coalesce(project_id, ''),
                  coalesce(api_key_id, ''), coalesce(user_id, ''), coalesce(api_source, '')) as _key,
        case when start_s is not null then cast(make_timestamp(start_s * 1000000) as varchar) else start_txt end as ts,
        case end_s - start_s
            when 86400 then 'day'
            when 3600 then 'hour'
            when 60 then 'minute'
            else coalesce(cast(end_s - start_s as varchar) || ' s buckets', 'no end_time')
        end as granularity,
        'openai' as provider,
        case when is_model_item then model_name else 'unknown' end as model,
        case when is_model_item then model_name else line_item end as model_raw,
        null as account,
        project_id as project,
        api_key_id as api_key,
        user_id,
        null as team,
        null as workload,
        case
            when not is_model_item then 'other'
            when modality = 'audio' or token_class in ('audio', 'characters', 'seconds', 'minutes')
                or regexp_matches(model_name, '^(whisper|tts|gpt-audio|gpt-4o-(mini-)?(audio|transcribe|tts))')
                then 'audio'
            when modality = 'image' or token_class in ('image', 'images')
                or regexp_matches(model_name, '^(dall-e|gpt-image)') then 'images'
            when regexp_matches(model_name, '^text-embedding') then 'embeddings'
            when regexp_matches(model_name, 'moderation') then 'moderation'
            else 'chat'
        end as operation,
        case
            when is_priority or starts_with(token_class, 'priority ') then 'priority'
            when is_model_item and starts_with(token_class, 'batch ') then 'batch'
            when is_model_item and starts_with(token_class, 'flex ') then 'flex'
            else 'standard'
        end as service_tier,
        0 as requests,
        0 as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        0 as output_tokens,
        0 as reasoning_tokens,
        -- dollars as given; another currency is left visibly unconvertible so the row is set aside, not summed
        case when currency is null or currency = 'usd' then amount_txt else amount_txt || ' ' || currency end
            as cost_usd
    from parsed
)
select * from final
