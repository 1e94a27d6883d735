-- openai-usage-api: OpenAI Usage API pages (/v1/organization/usage/*) -> canonical.
-- Grain: one row per result, i.e. per time bucket x group-by combination (project, user, key, model, batch,
-- service tier). `src` is one row per page (a single page, a JSON array of pages, or JSON lines of pages);
-- buckets and their results are unnested here, and empty buckets (results: []) yield no rows.
-- Traps: start_time/end_time are Unix seconds (UTC); result input_tokens INCLUDES input_cached_tokens and
-- input_cache_write_tokens, so both are subtracted for the canonical input_tokens; output_tokens includes
-- reasoning, which the API does not expose. Result fields are read through their JSON text so that fields an
-- endpoint lacks (embeddings have no cache fields) are null rather than a binder error, and a bad value reaches
-- the framework's checks as text.
-- Pages are unnested by the macro api_page_results (sql/migrations/018_shared_macros.sql); tier and uncached
-- input: openai_usage_tier, openai_uncached_input (023), shared with openai-usage-csv.
with fields as (
    select
        _row,
        try_cast(try_cast(t[1] as double) as bigint) as start_s,
        try_cast(try_cast(t[2] as double) as bigint) as end_s,
        t[1] as start_time,
        -- one JSON parse per result for every path we need
        json_extract_string(to_json(result), [
            '$.object',                          -- 1
            '$.input_tokens',                    -- 2
            '$.input_cached_tokens',             -- 3
            '$.input_cache_write_tokens',        -- 4
            '$.input_cache_write_30m_tokens',    -- 5
            '$.input_cache_write_12h_tokens',    -- 6
            '$.output_tokens',                   -- 7
            '$.num_model_requests',              -- 8
            '$.project_id',                      -- 9
            '$.user_id',                         -- 10
            '$.api_key_id',                      -- 11
            '$.model',                           -- 12
            '$.batch',                           -- 13
            '$.service_tier',                    -- 14
            '$.api_source',                      -- 15
            '$.source',                          -- 16 images: generation/edit/variation
            '$.size'                             -- 17 images: 1024x1024
        ]) as f
    from api_page_results(src, '$.start_time', '$.end_time')
),
typed as (
    select
        _row,
        start_s,
        end_s,
        start_time,
        -- the endpoint, from the result's own discriminator
        case f[1]
            when 'organization.usage.completions.result' then 'chat'
            when 'organization.usage.embeddings.result' then 'embeddings'
            when 'organization.usage.moderations.result' then 'moderation'
            when 'organization.usage.images.result' then 'images'
            when 'organization.usage.audio_speeches.result' then 'audio'
            when 'organization.usage.audio_transcriptions.result' then 'audio'
        end as operation,
        f[2] as input_raw,
        f[3] as cached_raw,
        -- cache writes: the total, else the sum of its retention split (SDK 3.57)
        coalesce(f[4], case when f[5] is not null or f[6] is not null
            then cast(coalesce(try_cast(f[5] as double), 0) + coalesce(try_cast(f[6] as double), 0) as varchar)
        end) as cache_write_raw,
        f[7] as output_raw,
        f[8] as requests_raw,
        f[9] as project_id,
        f[10] as user_id,
        f[11] as api_key_id,
        f[12] as model_raw,
        lower(f[13]) as batch,
        lower(f[14]) as service_tier_raw,
        f[15] as api_source,
        f[16] as image_source,
        f[17] as image_size
    from fields
),
final as (
    select
        _row,
        -- natural key: bucket start and width, endpoint and every group-by value, so a re-export of an
        -- overlapping window (or the dashboard CSV of the same buckets) adds nothing for buckets already loaded
        concat_ws('|', 'usage', operation, start_s, end_s - start_s, coalesce(project_id, ''),
                  coalesce(user_id, ''), coalesce(api_key_id, ''), coalesce(model_raw, ''), coalesce(batch, ''),
                  coalesce(service_tier_raw, ''), coalesce(api_source, ''), coalesce(image_source, ''),
                  coalesce(image_size, '')) as _key,
        make_timestamp(start_s * 1000000) as ts,
        bucket_granularity(end_s - start_s, 'no end_time') as granularity,
        'openai' as provider,
        -- not grouped by model: keep the usage, visibly unpriced
        coalesce(model_raw, 'unknown') as model,
        model_raw,
        null as account,
        project_id as project,
        api_key_id as api_key,
        user_id,
        null as team,
        null as workload,
        operation,
        openai_usage_tier(batch in ('true', '1'), service_tier_raw) as service_tier,
        requests_raw as requests,
        input_raw as _raw_input_tokens,
        openai_uncached_input(input_raw, cached_raw, cache_write_raw) as input_tokens,
        cached_raw as cache_read_tokens,
        cache_write_raw as cache_write_tokens,
        output_raw as output_tokens,
        0 as reasoning_tokens,
        null as cost_usd
    from typed
    -- tool usage (vector stores, code interpreter, file/web search) has no tokens and no model: not read here
    where operation is not null
)
select * from final
