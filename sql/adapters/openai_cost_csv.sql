-- openai-cost-csv: the OpenAI dashboard's Cost export, cost_<from>_<to>.csv -> canonical money-only rows.
-- Grain: one row per bucket (a day, as the dashboard exports months) x group-by combination (line item,
-- project, key, user), as in the Costs API. Every value is text.
-- Traps (docs/research.md "OpenAI dashboard CSV exports"): amount_value has 30+ fractional digits
-- ("0.003400000000000000000000000000000000"),
-- read as text and cast to DECIMAL by the framework (never DOUBLE); every empty bucket is a row with blank
-- metric cells (skipped, not rejected); start_time_iso sometimes lacks its offset, so time comes from the
-- Unix-second start_time (UTC). user_email, project_name and organization_name are personal or display data
-- and are not read at all; user_id (an OpenAI `user-…` id) is kept. Without grouping a row is the org total
-- (no line item): model `unknown`, operation `other`. Cost rows are not requests: requests and tokens are 0.
-- Line items are classified by the macro openai_cost_line_items (migration 018), as in openai-costs-api.
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
items as (
    select * from openai_cost_line_items(times)
),
final as (
    select
        _row,
        -- the same natural key as openai-costs-api, so the export and the API pages of one bucket load once
        concat_ws('|', 'cost', start_s, end_s - start_s, coalesce(line_item, ''), coalesce(project_id, ''),
                  coalesce(api_key_id, ''), coalesce(user_id, ''), coalesce(api_source, '')) as _key,
        case when start_s is not null then cast(make_timestamp(start_s * 1000000) as varchar)
             else coalesce(start_txt, start_iso) end as ts,
        bucket_granularity(end_s - start_s, 'no end_time') as granularity,
        'openai' as provider,
        item_model as model,
        item_model_raw as model_raw,
        organization_id as account,
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
