-- litellm-spend-logs: LiteLLM_SpendLogs export -> canonical. Grain: one row per request (request_id).
-- prompt_tokens includes cached and cache-write tokens (OpenAI semantics), so both are subtracted here.
-- session_id: the `session_id` column (LiteLLM >= 1.6x: litellm_session_id / x-litellm-session-id), else
-- metadata.session_id (older proxies, or a client that sets only the metadata).
with meta as (
    select
        *,
        -- one JSON parse per row for every path we need
        json_extract_string(coalesce(nullif(metadata, ''), '{}'), [
            '$.additional_usage_values.cache_read_input_tokens',
            '$.additional_usage_values.prompt_tokens_details.cached_tokens',
            '$.additional_usage_values.cache_creation_input_tokens',
            '$.additional_usage_values.completion_tokens_details.reasoning_tokens',
            '$.user_api_key_alias',
            '$.user_api_key_team_alias',
            '$.spend_logs_metadata.project',
            '$.user_api_key_org_id',
            '$.session_id'
        ]) as m
    from src
),
final as (
    select
        _row,
        request_id as _key,
        startTime as ts,
        'request' as granularity,
        case lower(coalesce(nullif(custom_llm_provider, ''), split_part(model, '/', 1)))
            when 'azure' then 'azure-openai'
            when 'azure_ai' then 'azure-openai'
            when 'bedrock' then 'aws-bedrock'
            when 'vertex_ai' then 'google-vertex'
            when 'vertex_ai_beta' then 'google-vertex'
            when 'gemini' then 'google-vertex'
            when 'text-completion-openai' then 'openai'
            else lower(coalesce(nullif(custom_llm_provider, ''), 'unknown'))
        end as provider,
        model,
        model as model_raw,
        coalesce(nullif(organization_id, ''), m[8]) as account,
        m[7] as project,
        coalesce(m[5], nullif(api_key, '')) as api_key,
        coalesce(nullif(end_user, ''), nullif("user", '')) as user_id,
        coalesce(m[6], nullif(team_id, '')) as team,
        null as workload,
        coalesce(nullif(trim(session_id), ''), nullif(trim(m[9]), '')) as session_id,
        case
            when call_type in ('completion', 'acompletion', 'text_completion', 'atext_completion',
                               'responses', 'aresponses', 'anthropic_messages') then 'chat'
            when call_type in ('embedding', 'aembedding') then 'embeddings'
            when call_type in ('image_generation', 'aimage_generation') then 'images'
            when call_type in ('transcription', 'atranscription', 'speech', 'aspeech') then 'audio'
            when call_type in ('moderation', 'amoderation') then 'moderation'
            when call_type is null or call_type = '' then 'chat'
            else 'other'
        end as operation,
        'standard' as service_tier,
        1 as requests,
        coalesce(try_cast(m[1] as bigint), try_cast(m[2] as bigint), 0) as cache_read_tokens,
        coalesce(try_cast(m[3] as bigint), 0) as cache_write_tokens,
        prompt_tokens as _raw_input_tokens,
        try_cast(prompt_tokens as double)
            - coalesce(try_cast(m[1] as bigint), try_cast(m[2] as bigint), 0)
            - coalesce(try_cast(m[3] as bigint), 0) as input_tokens,
        -- completion_tokens follows OpenAI semantics (reasoning included); a row reporting more reasoning than
        -- completion evidently left it out (thinking billed as output): then output = completion + reasoning
        completion_tokens as _raw_output_tokens,
        case when try_cast(m[4] as double) > try_cast(completion_tokens as double)
             then cast(try_cast(completion_tokens as double) + try_cast(m[4] as double) as varchar)
             else completion_tokens end as output_tokens,
        coalesce(try_cast(m[4] as bigint), 0) as reasoning_tokens,
        spend as cost_usd
    from meta
)
select * from final
