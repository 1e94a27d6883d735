-- openai-cost-csv: the OpenAI dashboard's Cost export, cost_<from>_<to>.csv -> canonical money-only rows.
-- Grain: one row per bucket (a day, as the dashboard exports months) x group-by combination (line item,
-- project, key, user), as in the Costs API. Every value is text.
-- Traps (formats.md §1c): amount_value has 30+ fractional digits ("0.003400000000000000000000000000000000"),
-- read as text and cast to DECIMAL by the framework (never DOUBLE); every empty bucket is a row with blank
-- metric cells (skipped, not rejected); start_time_iso sometimes lacks its offset, so time comes from the
-- Unix-second start_time (UTC). user_email, project_name and organization_name are personal or display data
-- and are not read at all; user_id (an OpenAI `user-…` id) is kept. Without grouping a row is the org total
-- (no line item): model `unknown`, operation `other`. Cost rows are not requests: requests and tokens are 0.
with cells as (
    select
        _row,
        nullif(trim(start_time), '') as start_txt,
        nullif(trim(end_time), '') as end_txt,
        nullif(trim(start_time_iso), '') as start_iso,
        nullif(trim(end_time_iso), '') as end_iso,
        nullif(trim(amount_value), '') as amount_txt,
        lower(nullif(trim(amount_currency), '')) as currency,
        nullif(trim(line_item), '') as line_item,
        nullif(trim(project_id), '') as project_id,
        nullif(trim(api_key_id), '') as api_key_id,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(organization_id), '') as organization_id,
        lower(nullif(trim(api_source), '')) as api_source
    from src
),
cost_rows as (
    -- an empty bucket: no amount, no line item, no group-by value
    select * from cells
    where coalesce(amount_txt, line_item, project_id, api_key_id, user_id) is not null
),
times as (
    select
        *,
        coalesce(try_cast(try_cast(start_txt as double) as bigint),
                 cast(epoch(try_cast(start_iso as timestamptz)) as bigint)) as start_s,
        coalesce(try_cast(try_cast(end_txt as double) as bigint),
                 cast(epoch(try_cast(end_iso as timestamptz)) as bigint)) as end_s
    from cost_rows
),
prefix as (
    -- "priority | <model>, <class>[, long context]"
    select
        *,
        regexp_matches(coalesce(line_item, ''), '^priority\s*\|', 'i') as is_priority,
        regexp_replace(regexp_replace(coalesce(line_item, ''), '^priority\s*\|\s*', '', 'i'),
                       ',\s*long context\s*$', '', 'i') as item
    from times
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
        -- the same natural key as openai-costs-api, so the export and the API pages of one bucket load once
        concat_ws('|', 'cost', start_s, end_s - start_s, coalesce(line_item, ''), coalesce(project_id, ''),
                  coalesce(api_key_id, ''), coalesce(user_id, ''), coalesce(api_source, '')) as _key,
        case when start_s is not null then cast(make_timestamp(start_s * 1000000) as varchar)
             else coalesce(start_txt, start_iso) end as ts,
        case end_s - start_s
            when 86400 then 'day'
            when 3600 then 'hour'
            when 60 then 'minute'
            else coalesce(cast(end_s - start_s as varchar) || ' s buckets', 'no end_time')
        end as granularity,
        'openai' as provider,
        case when is_model_item then model_name else 'unknown' end as model,
        case when is_model_item then model_name else line_item end as model_raw,
        organization_id as account,
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
