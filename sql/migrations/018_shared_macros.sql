-- 018: SQL that several query and adapter files need, written once as DuckDB macros (a macro is expanded
-- where it is called, so a query plans exactly as if the text were written there). A change to one of these is
-- a later migration with `create or replace macro`. Callers:
--   usage_filter_keeps, usage_dimension: queries/explore_breakdown, explore_trend, explore_rows
--   api_page_results: adapters/anthropic_usage_api, anthropic_cost_api, openai_usage_api, openai_costs_api
--   bucket_granularity: the same four API adapters and adapters/openai_cost_csv, anthropic_console_cost_csv
--   openai_cost_line_items: adapters/openai_cost_csv, openai_costs_api
-- Grain: none (definitions only).

-- The Explore filters: `filters` is a struct of one varchar list per dimension (an empty list keeps every row);
-- a row is kept when each of its nine dimension values ('(none)' when missing) is in that dimension's list.
create or replace macro usage_filter_keeps(filters, provider, model, team, project, api_key, user_id, workload,
                                           operation, service_tier) as
    (len(filters.provider) = 0 or list_contains(filters.provider::varchar[], coalesce(provider, '(none)')))
    and (len(filters.model) = 0 or list_contains(filters.model::varchar[], coalesce(model, '(none)')))
    and (len(filters.team) = 0 or list_contains(filters.team::varchar[], coalesce(team, '(none)')))
    and (len(filters.project) = 0 or list_contains(filters.project::varchar[], coalesce(project, '(none)')))
    and (len(filters.api_key) = 0 or list_contains(filters.api_key::varchar[], coalesce(api_key, '(none)')))
    and (len(filters.user_id) = 0 or list_contains(filters.user_id::varchar[], coalesce(user_id, '(none)')))
    and (len(filters.workload) = 0 or list_contains(filters.workload::varchar[], coalesce(workload, '(none)')))
    and (len(filters.operation) = 0
         or list_contains(filters.operation::varchar[], coalesce(operation, '(none)')))
    and (len(filters.service_tier) = 0
         or list_contains(filters.service_tier::varchar[], coalesce(service_tier, '(none)')));

-- The value of the chosen dimension ('provider' | 'model' | 'team' | 'project' | 'api_key' | 'user_id' |
-- 'workload' | 'operation' | 'service_tier', a bound value matched against this fixed list, never spliced into
-- SQL); '(none)' when the row has none (or the name is not one of the nine).
create or replace macro usage_dimension(dimension, provider, model, team, project, api_key, user_id, workload,
                                        operation, service_tier) as
    coalesce(case dimension
        when 'provider' then provider
        when 'model' then model
        when 'team' then team
        when 'project' then project
        when 'api_key' then api_key
        when 'user_id' then user_id
        when 'workload' then workload
        when 'operation' then operation
        when 'service_tier' then service_tier
    end, '(none)');

-- The results of admin-API JSON pages (Anthropic's usage and cost reports, OpenAI's usage and costs): `pages`
-- names a relation with one row per page (`_row`, `data`: the page's list of time buckets, each with a list
-- `results`). One row per result, in page, bucket, result order: `_row` (numbered from 1), `t` (the bucket's
-- start and end as JSON text, read at the two paths given, e.g. '$.start_time', '$.end_time') and `result`.
-- Empty buckets (results: []) yield no rows.
create or replace macro api_page_results(pages, start_path, end_path) as table
with buckets as (
    select
        p._row as page_row,
        unnest(p.data) as bucket,
        generate_subscripts(p.data, 1) as bucket_i
    from query_table(pages) as p
),
results as (
    select
        b.page_row,
        b.bucket_i,
        json_extract_string(to_json(b.bucket), [start_path, end_path]) as t,
        unnest(b.bucket.results) as result,
        generate_subscripts(b.bucket.results, 1) as result_i
    from buckets as b
),
final as (
    select row_number() over (order by page_row, bucket_i, result_i) as _row, t, result
    from results
)
select * from final;

-- A time bucket's canonical granularity from its width in seconds; an unusual width is named (and rejected by
-- the checks as not one of the granularities), a missing one says `missing` (e.g. 'no end_time').
create or replace macro bucket_granularity(width_s, missing) as
    case width_s
        when 86400 then 'day'
        when 3600 then 'hour'
        when 60 then 'minute'
        else coalesce(cast(width_s as varchar) || ' s buckets', missing)
    end;

-- OpenAI cost line items (the Costs API's and the dashboard Cost export's `line_item`): free text
-- "<model>, <token class>" with an optional "priority | " prefix, ", long context" suffix, "batch "/"flex "
-- class prefix and modality words ("gpt-4o audio, input"); items without a model (tool calls, storage) are not
-- model items. `cells` names a relation with a `line_item` column (and `_row`); every column passes through and
-- four are added: `item_model` (the model, else 'unknown'), `item_model_raw` (the model, else the item text),
-- `item_operation` and `item_service_tier` (canonical values).
create or replace macro openai_cost_line_items(cells) as table
with prefix as (
    -- "priority | <model>, <class>[, long context]"
    select
        *,
        regexp_matches(coalesce(line_item, ''), '^priority\s*\|', 'i') as is_priority,
        regexp_replace(regexp_replace(coalesce(line_item, ''), '^priority\s*\|\s*', '', 'i'),
                       ',\s*long context\s*$', '', 'i') as item
    from query_table(cells)
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
        * exclude (is_priority, item, model_part, token_class, is_model_item, modality, model_name),
        case when is_model_item then model_name else 'unknown' end as item_model,
        case when is_model_item then model_name else line_item end as item_model_raw,
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
        end as item_operation,
        case
            when is_priority or starts_with(token_class, 'priority ') then 'priority'
            when is_model_item and starts_with(token_class, 'batch ') then 'batch'
            when is_model_item and starts_with(token_class, 'flex ') then 'flex'
            else 'standard'
        end as item_service_tier
    from parsed
)
select * from final;
