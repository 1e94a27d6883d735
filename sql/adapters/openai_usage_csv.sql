-- openai-usage-csv: the OpenAI dashboard's Activity export, completions_usage_<from>_<to>.csv -> canonical.
-- Grain: one row per bucket x group-by combination (project, user, key, model, batch, service tier), as in the
-- Usage API. Every value is text. Traps (docs/research.md "OpenAI dashboard CSV exports"): counts rendered as floats
-- ("4.0"), booleans as
-- Python/Excel text ("False", "TRUE"), every empty bucket present as a row whose metric cells are all blank
-- (skipped here as no usage, not rejected), start_time_iso sometimes without its UTC offset. Time comes from
-- the integer start_time (Unix seconds, UTC); start_time_iso is only a fallback, read as UTC when it has no
-- offset. input_tokens INCLUDES input_cached_tokens and input_cache_write_tokens, so both are subtracted.
-- Tier and uncached input: macros openai_usage_tier, openai_uncached_input (sql/migrations/023_shared_macros_2.sql).
with cells as (
    select
        *,
        nullif(trim(start_time), '') as start_txt,
        nullif(trim(end_time), '') as end_txt,
        nullif(trim(num_model_requests), '') as requests_txt,
        nullif(trim(input_tokens), '') as input_txt,
        nullif(trim(input_cached_tokens), '') as cached_txt,
        coalesce(nullif(trim(input_cache_write_tokens), ''),
            case when nullif(trim(input_cache_write_30m_tokens), '') is not null
                   or nullif(trim(input_cache_write_12h_tokens), '') is not null
                then cast(coalesce(try_cast(input_cache_write_30m_tokens as double), 0)
                        + coalesce(try_cast(input_cache_write_12h_tokens as double), 0) as varchar)
            end) as cache_write_txt,
        nullif(trim(output_tokens), '') as output_txt,
        nullif(trim(model), '') as model_txt,
        nullif(trim(project_id), '') as project_txt,
        nullif(trim(user_id), '') as user_txt,
        nullif(trim(api_key_id), '') as key_txt,
        lower(nullif(trim(batch), '')) as batch_txt,
        lower(nullif(trim(service_tier), '')) as tier_txt
    from src
),
usage_rows as (
    -- an empty bucket: every metric and group-by cell blank, only the times filled in
    select * from cells
    where coalesce(requests_txt, input_txt, output_txt, cached_txt, cache_write_txt, model_txt, project_txt,
                   user_txt, key_txt, batch_txt, tier_txt) is not null
),
iso as (
    -- ISO fallback parsed by hand so the result is UTC whatever the session time zone: an offset is
    -- subtracted; no offset means UTC
    select
        *,
        regexp_extract(trim(start_time_iso), '([+-])(\d{2}):?(\d{2})$', ['sign', 'hh', 'mm']) as off_s,
        regexp_extract(trim(end_time_iso), '([+-])(\d{2}):?(\d{2})$', ['sign', 'hh', 'mm']) as off_e,
        try_cast(replace(left(trim(start_time_iso), 19), 'T', ' ') as timestamp) as local_s,
        try_cast(replace(left(trim(end_time_iso), 19), 'T', ' ') as timestamp) as local_e
    from usage_rows
),
times as (
    select
        *,
        coalesce(
            try_cast(try_cast(start_txt as double) as bigint),
            epoch(local_s - case when off_s.sign = '' then interval 0 minute
                else (case off_s.sign when '-' then -1 else 1 end)
                    * (cast(off_s.hh as int) * interval 1 hour + cast(off_s.mm as int) * interval 1 minute) end)
        ) as start_s,
        coalesce(
            try_cast(try_cast(end_txt as double) as bigint),
            epoch(local_e - case when off_e.sign = '' then interval 0 minute
                else (case off_e.sign when '-' then -1 else 1 end)
                    * (cast(off_e.hh as int) * interval 1 hour + cast(off_e.mm as int) * interval 1 minute) end)
        ) as end_s
    from iso
),
final as (
    select
        _row,
        -- the same natural key as openai-usage-api, so the CSV and the API pages of one bucket load once
        concat_ws('|', 'usage', 'chat', cast(start_s as bigint), cast(end_s - start_s as bigint),
                  coalesce(project_txt, ''), coalesce(user_txt, ''), coalesce(key_txt, ''), coalesce(model_txt, ''),
                  case when batch_txt in ('true', '1', '1.0') then 'true'
                       when batch_txt in ('false', '0', '0.0') then 'false' else coalesce(batch_txt, '') end,
                  coalesce(tier_txt, ''), coalesce(lower(nullif(trim(api_source), '')), ''), '', '') as _key,
        -- naive UTC as text; a start time that cannot be read reaches the framework's check as it was written
        case when start_s is not null then cast(make_timestamp(cast(start_s as bigint) * 1000000) as varchar)
             else coalesce(start_txt, nullif(trim(start_time_iso), '')) end as ts,
        -- the export's last bucket ends at 23:59:59 (86,399 s): a bucket one second short is the same grain
        case cast(end_s - start_s as bigint)
            when 60 then 'minute' when 59 then 'minute'
            when 3600 then 'hour' when 3599 then 'hour'
            when 86400 then 'day' when 86399 then 'day'
            else coalesce(cast(cast(end_s - start_s as bigint) as varchar) || ' s buckets', 'no end_time')
        end as granularity,
        'openai' as provider,
        -- not grouped by model: keep the usage, visibly unpriced
        coalesce(model_txt, 'unknown') as model,
        model_txt as model_raw,
        null as account,
        project_txt as project,
        key_txt as api_key,
        user_txt as user_id,
        null as team,
        null as workload,
        'chat' as operation,
        openai_usage_tier(batch_txt in ('true', '1', '1.0'), tier_txt) as service_tier,
        requests_txt as requests,
        input_txt as _raw_input_tokens,
        openai_uncached_input(input_txt, cached_txt, cache_write_txt) as input_tokens,
        cached_txt as cache_read_tokens,
        cache_write_txt as cache_write_tokens,
        output_txt as output_tokens,
        0 as reasoning_tokens,
        null as cost_usd
    from times
)
select * from final
