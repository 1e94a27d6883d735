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
-- the macro api_page_results (migration 018); the canonical row (line items classified, natural key, money
-- only) is the macro openai_cost_rows (migration 023), shared with openai-cost-csv.
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
        start_txt as ts_txt,
        null as account,
        nullif(trim(f[1]), '') as amount_txt,
        lower(nullif(trim(f[2]), '')) as currency,
        nullif(trim(f[3]), '') as line_item,
        nullif(trim(f[4]), '') as project_id,
        nullif(trim(f[5]), '') as api_key_id,
        nullif(trim(f[6]), '') as user_id,
        lower(nullif(trim(f[7]), '')) as api_source
    from fields
),
final as (
    select * from openai_cost_rows(cells)
)
select * from final
