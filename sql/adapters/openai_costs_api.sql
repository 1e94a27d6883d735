-- openai-costs-api: OpenAI Costs API pages (GET /v1/organization/costs) -> canonical money-only rows.
-- Grain: one row per result, i.e. per daily bucket x group-by combination (line_item, project, key, user,
-- api_source). `src` is one row per page (a page, a JSON array of pages, or JSON lines of pages); buckets and
-- results are unnested here and empty buckets (results: []) yield no rows.
-- Traps (docs/research.md "OpenAI Costs API"): amount.value is USD DOLLARS (a number, sometimes a string);
-- start_time/end_time are
-- Unix seconds (UTC); line_item is free text "<model>, <token class>" with an optional "priority | " prefix,
-- ", long context" suffix, "batch "/"flex " class prefix and modality words ("… audio, input"); items without
-- a model (tool calls, storage) keep model `unknown`, operation `other`, and the item text as model_raw.
-- Cost rows are not requests and carry no tokens: requests and every token count are 0. Pages are unnested by
-- the macro api_page_results, line items classified by openai_cost_line_items (migration 018), as in
-- openai-cost-csv.
with fields as (
    select
        _row,
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
    from api_page_results(src, '$.start_time', '$.end_time')
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
items as (
    select * from openai_cost_line_items(cells)
),
final as (
    select
        _row,
        -- natural key: bucket and every group-by value; shared with openai-cost-csv so the API pages and the
        -- dashboard export of one bucket load once
        concat_ws('|', 'cost', start_s, end_s - start_s, coalesce(line_item, ''), coalesce(project_id, ''),
                  coalesce(api_key_id, ''), coalesce(user_id, ''), coalesce(api_source, '')) as _key,
        case when start_s is not null then cast(make_timestamp(start_s * 1000000) as varchar) else start_txt end as ts,
        bucket_granularity(end_s - start_s, 'no end_time') as granularity,
        'openai' as provider,
        item_model as model,
        item_model_raw as model_raw,
        null as account,
        project_id as project,
        api_key_id as api_key,
        user_id,
        null as team,
        null as workload,
        item_operation as operation,
        item_service_tier as service_tier,
        0 as requests,
        0 as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        0 as output_tokens,
        0 as reasoning_tokens,
        -- dollars as given; another currency is left visibly unconvertible so the row is set aside, not summed
        case when currency is null or currency = 'usd' then amount_txt else amount_txt || ' ' || currency end
            as cost_usd
    from items
)
select * from final
