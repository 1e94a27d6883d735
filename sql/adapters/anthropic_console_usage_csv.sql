-- anthropic-console-usage-csv: Claude Console Usage page export (tokens per day) -> canonical.
-- Grain: one row per day (or hour: an hourly export's usage_date_utc has a time of day, and the smallest step between
-- its times sets `hour`/`minute`) x model x API key (name) x workspace x usage type x context window (x geo x speed).
-- Header versions (docs/research.md "Claude Console CSV exports"): the 2026 header splits cache writes into
-- _cache_write_5m and
-- _cache_write_1h and adds inference_geo, speed; the older one has a single _cache_write column. Every value is
-- text. Traps: usage_input_tokens_no_cache already excludes cache reads and writes; context_window holds
-- "≤ 200k" (U+2264, read as UTF-8; a BOM is stripped by the reader); model_version may be an API id or a
-- display name ("Claude Sonnet 4.5"), mapped to the catalog id here (lower case, date to YYYYMMDD, spaces and
-- dots to '-'). A tokens-only export: no money (cost_usd null) and no request count (requests 0).
-- Model ids and tiers: macros claude_model_id, claude_console_tier (sql/migrations/023_shared_macros_2.sql).
with cells as (
    select
        _row,
        nullif(trim(usage_date_utc), '') as day_txt,
        nullif(trim(model_version), '') as model_txt,
        nullif(trim(api_key), '') as key_name,
        nullif(trim(workspace), '') as workspace_txt,
        lower(nullif(trim(usage_type), '')) as usage_type_txt,
        nullif(trim(context_window), '') as context_window_txt,
        nullif(trim(usage_input_tokens_no_cache), '') as uncached_txt,
        nullif(trim(usage_input_tokens_cache_read), '') as cache_read_txt,
        nullif(trim(usage_input_tokens_cache_write_5m), '') as write_5m_txt,
        nullif(trim(usage_input_tokens_cache_write_1h), '') as write_1h_txt,
        nullif(trim(usage_input_tokens_cache_write), '') as write_txt,
        nullif(trim(usage_output_tokens), '') as output_txt,
        nullif(trim(inference_geo), '') as geo_txt,
        nullif(trim(speed), '') as speed_txt
    from src
),
mapped as (
    select
        *,
        claude_model_id(model_txt) as model_id,
        -- "≤ 200k" and "200k" are the same window
        regexp_replace(lower(coalesce(context_window_txt, '')), '[^0-9a-z-]', '', 'g') as window_key,
        -- the old single column, else the 5-minute plus 1-hour split; a bad cell reaches the checks as text
        case
            when write_txt is not null then write_txt
            when write_5m_txt is null and write_1h_txt is null then null
            when write_5m_txt is not null and try_cast(write_5m_txt as double) is null then write_5m_txt
            when write_1h_txt is not null and try_cast(write_1h_txt as double) is null then write_1h_txt
            else cast(coalesce(try_cast(write_5m_txt as double), 0) + coalesce(try_cast(write_1h_txt as double), 0)
                      as varchar)
        end as cache_write_txt
    from cells
),
bucket as (
    -- the bucket width, from the data: a daily export's usage_date_utc is a date; an hourly (or per-minute) export
    -- carries a time of day, and the smallest step between its distinct times is the width
    select
        coalesce(bool_or(day_txt like '%:%'), false) as has_clock,
        min(step) filter (where step > 0) as min_step
    from (
        select epoch(t) - lag(epoch(t)) over (order by t) as step, day_txt
        from (select distinct try_cast(day_txt as timestamptz) as t, day_txt from cells)
    )
),
final as (
    select
        _row,
        concat_ws('|', 'anthropic-console-usage', day_txt, coalesce(model_id, ''), coalesce(key_name, ''),
                  coalesce(workspace_txt, ''), coalesce(usage_type_txt, ''), window_key, coalesce(geo_txt, ''),
                  coalesce(speed_txt, '')) as _key,
        day_txt as ts,
        -- the Usage page exports days ("2026-07-05") or, grouped by hour, hours ("2026-07-05 03:00:00"): a time of
        -- day in the file makes its rows hour buckets (minute buckets when its times step by a minute)
        case
            when not b.has_clock then 'day'
            when b.min_step <= 60 then 'minute'
            else 'hour'
        end as granularity,
        'anthropic' as provider,
        coalesce(model_id, 'unknown') as model,
        model_txt as model_raw,
        null as account,
        coalesce(workspace_txt, 'Default') as project,
        key_name as api_key,
        null as user_id,
        null as team,
        null as workload,
        'chat' as operation,
        claude_console_tier(usage_type_txt) as service_tier,
        0 as requests,
        uncached_txt as input_tokens,
        cache_read_txt as cache_read_tokens,
        cache_write_txt as cache_write_tokens,
        output_txt as output_tokens,
        0 as reasoning_tokens,
        null as cost_usd
    from mapped, bucket as b
)
select * from final
