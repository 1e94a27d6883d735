-- openrouter-generation-json: responses of GET /api/v1/generation?id=… ({"data": {...}}), one per line, as a
-- JSON array, or a single one; a bare generation object (without the "data" wrapper) reads the same.
-- Grain: one row per generation; key = data.id. Billing-accurate NATIVE token counts are used
-- (native_tokens_prompt includes native_tokens_cached, which is subtracted; native_tokens_completion includes
-- native_tokens_reasoning); tokens_prompt/tokens_completion are normalized counts and are not read.
-- total_cost is USD; created_at is ISO with an offset, converted to UTC by the framework.
with docs as (
    select s._row, to_json(s) as j from src as s
),
fields as (
    select
        _row,
        json_extract_string(coalesce(json_extract(j, '$.data'), j), [
            '$.id',                          -- 1
            '$.created_at',                  -- 2
            '$.model',                       -- 3
            '$.total_cost',                  -- 4
            '$.native_tokens_prompt',        -- 5
            '$.native_tokens_completion',    -- 6
            '$.native_tokens_reasoning',     -- 7
            '$.native_tokens_cached',        -- 8
            '$.app_id',                      -- 9
            '$.external_user',               -- 10
            '$.api_type',                    -- 11
            '$.service_tier'                 -- 12
        ]) as f
    from docs
),
final as (
    select
        _row,
        f[1] as _key,
        f[2] as ts,
        'request' as granularity,
        'openrouter' as provider,
        coalesce(f[3], 'unknown') as model,
        f[3] as model_raw,
        null as account,
        f[9] as project,
        null as api_key,
        f[10] as user_id,
        null as team,
        null as workload,
        case lower(f[11]) when 'embeddings' then 'embeddings' else 'chat' end as operation,
        case
            when lower(f[12]) in ('flex', 'priority', 'batch') then lower(f[12])
            else 'standard'
        end as service_tier,
        1 as requests,
        f[5] as _raw_input_tokens,
        try_cast(f[5] as double) - coalesce(try_cast(f[8] as double), 0) as input_tokens,
        f[8] as cache_read_tokens,
        0 as cache_write_tokens,
        -- thinking reported apart from the completion (native counts of some providers: reasoning above the
        -- completion) is added to it, since it is billed as output; otherwise the completion already includes it
        f[6] as _raw_output_tokens,
        case when try_cast(f[7] as double) > try_cast(f[6] as double)
             then cast(try_cast(f[6] as double) + try_cast(f[7] as double) as varchar)
             else f[6] end as output_tokens,
        f[7] as reasoning_tokens,
        f[4] as cost_usd
    from fields
)
select * from final
