-- anthropic-console-cost-csv: Claude Console Cost page export (claude_api_cost_YYYY_MM.csv) -> canonical
-- money-only rows. Grain: one row per day x model x workspace x API key x usage type x token type (x context
-- window x cost type x geo x speed).
-- Header versions (docs/research.md "Claude Console CSV exports"): 2024
-- usage_date_utc,model,workspace,api_key,usage_type,token_type,cost_usd;
-- 2025-12 adds context_window, cost_type; 2026-03 adds list_price_usd, inference_geo, speed; 2026-08 adds
-- api_key_id, api_key_status. Missing columns are null. Traps: `model` is a DISPLAY NAME ("Claude Sonnet 4.5",
-- "Claude 3.5 Sonnet 2024-10-22") mapped to the catalog id here (lower case, date to YYYYMMDD, spaces and
-- dots to '-'); cost_usd is DOLLARS rounded to 2 places per row (already dollars: no conversion);
-- context_window holds "≤ 200k"; empty workspace = Default. list_price_usd is the catalog's job (list_cost_usd)
-- and is not read. Cost rows carry no tokens and are not requests: requests and tokens are 0.
-- Model ids and tiers: macros claude_model_id, claude_console_tier (sql/migrations/023_shared_macros_2.sql).
with cells as (
    select
        _row,
        nullif(trim(usage_date_utc), '') as day_txt,
        nullif(trim(model), '') as model_txt,
        nullif(trim(workspace), '') as workspace_txt,
        nullif(trim(api_key), '') as key_name,
        nullif(trim(api_key_id), '') as key_id,
        lower(nullif(trim(usage_type), '')) as usage_type_txt,
        nullif(trim(context_window), '') as context_window_txt,
        lower(nullif(trim(token_type), '')) as token_type_txt,
        lower(nullif(trim(cost_type), '')) as cost_type_txt,
        nullif(trim(inference_geo), '') as geo_txt,
        nullif(trim(speed), '') as speed_txt,
        nullif(trim(cost_usd), '') as cost_txt
    from src
),
mapped as (
    select
        *,
        claude_model_id(model_txt) as model_id,
        regexp_replace(lower(coalesce(context_window_txt, '')), '[^0-9a-z-]', '', 'g') as window_key
    from cells
),
final as (
    select
        _row,
        concat_ws('|', 'anthropic-console-cost', day_txt, coalesce(model_id, ''), coalesce(workspace_txt, ''),
                  coalesce(key_id, key_name, ''), coalesce(usage_type_txt, ''), coalesce(token_type_txt, ''),
                  window_key, coalesce(cost_type_txt, ''), coalesce(geo_txt, ''), coalesce(speed_txt, '')) as _key,
        day_txt as ts,
        'day' as granularity,
        'anthropic' as provider,
        coalesce(model_id, 'unknown') as model,
        model_txt as model_raw,
        null as account,
        coalesce(workspace_txt, 'Default') as project,
        -- the key's id where the export has it (2026-08), else its name
        coalesce(key_id, key_name) as api_key,
        null as user_id,
        null as team,
        null as workload,
        case when cost_type_txt is null or cost_type_txt in ('token', 'tokens') then 'chat' else 'other' end
            as operation,
        claude_console_tier(usage_type_txt) as service_tier,
        0 as requests,
        0 as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        0 as output_tokens,
        0 as reasoning_tokens,
        cost_txt as cost_usd
    from mapped
)
select * from final
