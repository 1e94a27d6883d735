-- helicone-requests: Helicone request export (CLI/API CSV, JSON/JSON lines) or raw request_response_rmt dump
-- -> canonical. Grain: one row per request; key = request_id (response_id in the older @helicone/export CSV).
-- A raw ClickHouse dump is told apart by its column names (it has `status` and `request_created_at`; the CLI
-- export has `status` with `created_at`, the API export `response_status`): only there `cost` is USD x 1e9.
-- prompt_tokens is taken to include the cache reads and writes (both subtracted); completion_tokens excludes
-- reasoning_tokens (Helicone's total_tokens = prompt + completion + reasoning), so output = the two added.
-- Properties (JSON text, a JSON object, or ClickHouse map text) are read with one regex per key name, with or
-- without the `Helicone-Property-` header prefix: Project (else App) -> project, Team -> team, Workload -> workload;
-- Helicone-Session-Id (the sessions header, stored as a property of that name) -> session_id.
with cells as (
    select
        _row,
        nullif(trim(cast(coalesce(cast(request_id as varchar), cast(response_id as varchar)) as varchar)), '') as request_key,
        nullif(trim(cast(coalesce(cast(request_created_at as varchar), cast(created_at as varchar)) as varchar)), '') as created_txt,
        nullif(trim(cast(coalesce(cast(model as varchar), cast(response_model as varchar), cast(request_model as varchar)) as varchar)), '') as model_txt,
        lower(nullif(trim(cast(provider as varchar)), '')) as provider_txt,
        nullif(trim(cast(coalesce(cast(user_id as varchar), cast(request_user_id as varchar)) as varchar)), '') as user_txt,
        -- a JSON object's absent keys cast to text as NULL: dropped, so they read as missing
        regexp_replace(coalesce(cast(request_properties as varchar), cast(properties as varchar), ''),
                       '\bnull\b', '', 'gi') as props,
        lower(coalesce(cast(path as varchar), cast(request_path as varchar), cast(target_url as varchar), ''))
            as path_txt,
        nullif(trim(cast(prompt_tokens as varchar)), '') as prompt_txt,
        nullif(trim(cast(completion_tokens as varchar)), '') as completion_txt,
        -- the CLI export has no reasoning column but its `tokens` is prompt + completion + reasoning
        coalesce(nullif(trim(cast(reasoning_tokens as varchar)), ''),
                 cast(nullif(try_cast(tokens as bigint) - try_cast(prompt_tokens as bigint)
                             - try_cast(completion_tokens as bigint), 0) as varchar)) as reasoning_txt,
        nullif(trim(cast(prompt_cache_read_tokens as varchar)), '') as cache_read_txt,
        nullif(trim(cast(prompt_cache_write_tokens as varchar)), '') as cache_write_txt,
        nullif(trim(cast(coalesce(cast(cost as varchar), cast(cost_usd as varchar)) as varchar)), '') as cost_txt,
        -- raw request_response_rmt dump: `status` next to `request_created_at` (not the CLI's `created_at`)
        status is not null and request_created_at is not null and created_at is null as is_raw_dump
    from src
),
props as (
    select
        *,
        nullif(trim(regexp_extract(props, '(?i)[{,\s''"](?:helicone-property-)?project[''"]?\s*[:=]\s*[''"]*([^''",}]*)', 1)), '')
            as prop_project,
        nullif(trim(regexp_extract(props, '(?i)[{,\s''"](?:helicone-property-)?app[''"]?\s*[:=]\s*[''"]*([^''",}]*)', 1)), '')
            as prop_app,
        nullif(trim(regexp_extract(props, '(?i)[{,\s''"](?:helicone-property-)?team[''"]?\s*[:=]\s*[''"]*([^''",}]*)', 1)), '')
            as prop_team,
        nullif(trim(regexp_extract(props, '(?i)[{,\s''"](?:helicone-property-)?workload[''"]?\s*[:=]\s*[''"]*([^''",}]*)', 1)), '')
            as prop_workload,
        nullif(trim(regexp_extract(props, '(?i)[{,\s''"]helicone-session-id[''"]?\s*[:=]\s*[''"]*([^''",}]*)', 1)), '')
            as prop_session
    from cells
),
final as (
    select
        _row,
        request_key as _key,
        created_txt as ts,
        'request' as granularity,
        case
            when provider_txt in ('openai') then 'openai'
            when provider_txt in ('anthropic') then 'anthropic'
            when provider_txt in ('azure', 'azure-openai', 'azure_openai', 'azureopenai') then 'azure-openai'
            when provider_txt in ('aws', 'bedrock', 'aws-bedrock') then 'aws-bedrock'
            when provider_txt in ('google', 'vertex', 'vertexai', 'vertex-ai', 'google-vertex', 'gemini',
                                  'google-ai-studio') then 'google-vertex'
            when provider_txt in ('x', 'xai') then 'xai'
            when provider_txt is not null then provider_txt
            -- no provider column (older export): the model family says who served it
            when model_txt like '%/%' then 'openrouter'
            when lower(model_txt) like 'claude%' then 'anthropic'
            when regexp_matches(lower(model_txt), '^(gpt|o[0-9]|chatgpt|text-embedding|dall-e|gpt-image|whisper|tts)')
                then 'openai'
            when lower(model_txt) like 'gemini%' then 'google-vertex'
            else 'unknown'
        end as provider,
        model_txt as model,
        model_txt as model_raw,
        null as account,
        coalesce(prop_project, prop_app) as project,
        null as api_key,
        user_txt as user_id,
        prop_team as team,
        prop_workload as workload,
        prop_session as session_id,
        case
            when path_txt like '%embeddings%' then 'embeddings'
            when path_txt like '%moderations%' then 'moderation'
            when path_txt like '%images%' then 'images'
            when path_txt like '%audio%' then 'audio'
            else 'chat'
        end as operation,
        'standard' as service_tier,
        1 as requests,
        prompt_txt as _raw_input_tokens,
        try_cast(prompt_txt as double) - coalesce(try_cast(cache_read_txt as double), 0)
            - coalesce(try_cast(cache_write_txt as double), 0) as input_tokens,
        coalesce(cache_read_txt, '0') as cache_read_tokens,
        coalesce(cache_write_txt, '0') as cache_write_tokens,
        completion_txt as _raw_output_tokens,
        try_cast(completion_txt as double) + coalesce(try_cast(reasoning_txt as double), 0) as output_tokens,
        coalesce(reasoning_txt, '0') as reasoning_tokens,
        case
            -- the integer x 1e9 of the raw table; an unreadable value passes through to be rejected as it is
            when is_raw_dump then coalesce(
                cast(cast(try_cast(cost_txt as hugeint) as decimal(38, 9)) * 0.000000001 as varchar), cost_txt)
            else cost_txt
        end as cost_usd
    from props
)
select * from final
