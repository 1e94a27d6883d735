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
-- The canonical row (line items classified, natural key, money only) is the macro openai_cost_rows (migration
-- 023), shared with openai-costs-api.
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
        nullif(trim(organization_id), '') as account,
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
                 cast(epoch(try_cast(end_iso as timestamptz)) as bigint)) as end_s,
        coalesce(start_txt, start_iso) as ts_txt
    from cost_rows
),
final as (
    select * from openai_cost_rows(times)
)
select * from final
