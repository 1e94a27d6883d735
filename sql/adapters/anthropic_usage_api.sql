-- anthropic-usage-api: Anthropic Admin API usage report pages (GET /v1/organizations/usage_report/messages)
-- -> canonical. Grain: one row per result, i.e. per time bucket (1d, 1h or 1m) x group-by combination (api key,
-- workspace, model, service tier, context window, inference geo, account, service account, speed).
-- `src` is one row per page (a page, a JSON array of pages, or JSON lines of pages); empty buckets
-- (results: []) yield no rows.
-- Traps (docs/research.md "Anthropic Admin API usage report"): starting_at/ending_at are RFC 3339 text (UTC);
-- uncached_input_tokens ALREADY excludes
-- cache reads and writes (opposite of OpenAI), so it is input_tokens as is; cache writes are split by TTL in
-- cache_creation.ephemeral_5m_input_tokens + ephemeral_1h_input_tokens (summed); output_tokens includes
-- thinking. The report has no request count, so requests is 0 (unknown), never a guessed 1 per bucket.
-- workspace_id null = the default workspace (or not grouped); api_key_id null = Console/Workbench usage.
-- Pages are unnested by the macro anthropic_report_results, the tier mapped by anthropic_api_tier
-- (sql/migrations/023_shared_macros_2.sql).
with fields as (
    select
        _row,
        start_txt,
        start_at,
        width_s,
        json_extract_string(to_json(result), [
            '$.uncached_input_tokens',                          -- 1
            '$.cache_read_input_tokens',                        -- 2
            '$.cache_creation.ephemeral_5m_input_tokens',       -- 3
            '$.cache_creation.ephemeral_1h_input_tokens',       -- 4
            '$.output_tokens',                                  -- 5
            '$.server_tool_use.web_search_requests',            -- 6
            '$.api_key_id',                                     -- 7
            '$.workspace_id',                                   -- 8
            '$.model',                                          -- 9
            '$.service_tier',                                   -- 10
            '$.context_window',                                 -- 11
            '$.inference_geo',                                  -- 12
            '$.account_id',                                     -- 13
            '$.service_account_id',                             -- 14
            '$.speed'                                           -- 15
        ]) as f
    from anthropic_report_results(src)
),
typed as (
    select
        _row,
        start_txt,
        start_at,
        width_s,
        f[1] as uncached_raw,
        f[2] as cache_read_raw,
        -- the two TTLs are both cache writes; a missing one counts 0, a bad one reaches the checks as text
        case
            when f[3] is null and f[4] is null then null
            when (f[3] is not null and try_cast(f[3] as double) is null) then f[3]
            when (f[4] is not null and try_cast(f[4] as double) is null) then f[4]
            else cast(coalesce(try_cast(f[3] as double), 0) + coalesce(try_cast(f[4] as double), 0) as varchar)
        end as cache_write_raw,
        f[5] as output_raw,
        f[7] as api_key_id,
        f[8] as workspace_id,
        f[9] as model_txt,
        lower(f[10]) as tier_raw,
        f[11] as context_window,
        f[12] as inference_geo,
        f[13] as account_id,
        f[14] as service_account_id,
        f[15] as speed
    from fields
),
final as (
    select
        _row,
        concat_ws('|', 'anthropic-usage', epoch(start_at), width_s, coalesce(api_key_id, ''),
                  coalesce(workspace_id, ''), coalesce(model_txt, ''), coalesce(tier_raw, ''),
                  coalesce(context_window, ''), coalesce(inference_geo, ''), coalesce(account_id, ''),
                  coalesce(service_account_id, ''), coalesce(speed, '')) as _key,
        start_txt as ts,
        bucket_granularity(width_s, 'no ending_at') as granularity,
        'anthropic' as provider,
        -- API ids (claude-sonnet-4-20250514) resolve in the catalog as they are; not grouped by model: unknown
        coalesce(model_txt, 'unknown') as model,
        model_txt as model_raw,
        null as account,
        workspace_id as project,
        api_key_id as api_key,
        coalesce(account_id, service_account_id) as user_id,
        null as team,
        null as workload,
        'chat' as operation,
        anthropic_api_tier(tier_raw) as service_tier,
        0 as requests,
        uncached_raw as input_tokens,
        cache_read_raw as cache_read_tokens,
        cache_write_raw as cache_write_tokens,
        output_raw as output_tokens,
        0 as reasoning_tokens,
        null as cost_usd
    from typed
)
select * from final
