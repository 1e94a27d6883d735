-- langfuse-observations: Langfuse observation export (CSV/JSON/JSON lines/Parquet) -> canonical.
-- Grain: one row per GENERATION or EMBEDDING observation; key = observation id. SPAN, EVENT and the other
-- observation types are dropped here (skipped, not rejected). start_time is naive UTC with microseconds.
-- usage_details / cost_details are JSON text (CSV), an object (JSON, cast to text as a struct `{'k': v}`) or a
-- Parquet map read as text `{k=v}`: one regex on the key name reads a value from any of the three.
-- Usage keys are disjoint (Langfuse SDKs subtract the details from input/output): input excludes cache reads
-- (input_cached_tokens | cache_read_input_tokens | input_cache_read) and writes (cache_creation_input_tokens |
-- input_cache_creation); output excludes output_reasoning_tokens, which are added back (canonical output
-- includes reasoning). cost: total_cost, else cost_details.total (USD, Langfuse's estimate).
-- session_id: the trace's session (`session_id`, trace context of observations_v2), else the trace id (a trace
-- is one invocation: its observations share their context and prompt cache).
with observations as (
    select *
    from src
    where upper(trim(cast(type as varchar))) in ('GENERATION', 'EMBEDDING')
),
cells as (
    select
        _row,
        nullif(trim(cast(id as varchar)), '') as observation_id,
        upper(trim(cast(type as varchar))) as observation_type,
        nullif(trim(cast(start_time as varchar)), '') as start_txt,
        nullif(trim(cast(coalesce(provided_model_name, model) as varchar)), '') as model_txt,
        nullif(trim(cast(project_id as varchar)), '') as project_txt,
        nullif(trim(cast(user_id as varchar)), '') as user_txt,
        nullif(trim(cast(trace_name as varchar)), '') as trace_name_txt,
        coalesce(nullif(trim(cast(session_id as varchar)), ''), nullif(trim(cast(trace_id as varchar)), ''))
            as session_txt,
        -- a JSON object's absent keys cast to text as NULL: dropped, so they read as missing
        regexp_replace(coalesce(cast(usage_details as varchar), ''), '\bnull\b', '', 'gi') as usage_txt,
        regexp_replace(coalesce(cast(cost_details as varchar), ''), '\bnull\b', '', 'gi') as cost_txt,
        nullif(trim(cast(total_cost as varchar)), '') as total_cost_txt
    from observations
),
-- `<key>` then `":`, `':` or `=`, then the value up to the next separator; nothing else in the text matches
usage as (
    select
        *,
        nullif(regexp_extract(usage_txt, '[{,\s''"]input[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '') as u_input,
        nullif(regexp_extract(usage_txt, '[{,\s''"]output[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '') as u_output,
        coalesce(
            nullif(regexp_extract(usage_txt, '[{,\s''"]input_cached_tokens[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), ''),
            nullif(regexp_extract(usage_txt, '[{,\s''"]cache_read_input_tokens[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), ''),
            nullif(regexp_extract(usage_txt, '[{,\s''"]input_cache_read[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '')
        ) as u_cache_read,
        coalesce(
            nullif(regexp_extract(usage_txt, '[{,\s''"]cache_creation_input_tokens[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), ''),
            nullif(regexp_extract(usage_txt, '[{,\s''"]input_cache_creation[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '')
        ) as u_cache_write,
        coalesce(
            nullif(regexp_extract(usage_txt, '[{,\s''"]output_reasoning_tokens[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), ''),
            nullif(regexp_extract(usage_txt, '[{,\s''"]output_reasoning[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '')
        ) as u_reasoning,
        nullif(regexp_extract(cost_txt, '[{,\s''"]total[''"]?\s*[:=]\s*[''"]*([^''",}\s]*)', 1), '') as c_total
    from cells
),
final as (
    select
        _row,
        observation_id as _key,
        start_txt as ts,
        'request' as granularity,
        -- Langfuse records no provider: the model name says who served it
        case
            when regexp_matches(lower(model_txt), '^(us|eu|apac|global)?\.?(anthropic|amazon|meta|mistral|cohere)\.')
                then 'aws-bedrock'
            when model_txt like '%/%' then 'openrouter'
            when lower(model_txt) like 'claude%' then 'anthropic'
            when regexp_matches(lower(model_txt), '^(gpt|o[0-9]|chatgpt|text-embedding|dall-e|gpt-image|whisper|tts)')
                then 'openai'
            when lower(model_txt) like 'gemini%' or lower(model_txt) like 'text-multilingual-embedding%'
                then 'google-vertex'
            else 'unknown'
        end as provider,
        model_txt as model,
        model_txt as model_raw,
        null as account,
        project_txt as project,
        null as api_key,
        user_txt as user_id,
        null as team,
        trace_name_txt as workload,
        session_txt as session_id,
        case when observation_type = 'EMBEDDING' or lower(model_txt) like '%embed%' then 'embeddings'
             else 'chat' end as operation,
        'standard' as service_tier,
        1 as requests,
        u_input as input_tokens,
        coalesce(u_cache_read, '0') as cache_read_tokens,
        coalesce(u_cache_write, '0') as cache_write_tokens,
        u_output as _raw_output_tokens,
        try_cast(u_output as double) + coalesce(try_cast(u_reasoning as double), 0) as output_tokens,
        coalesce(u_reasoning, '0') as reasoning_tokens,
        coalesce(total_cost_txt, c_total) as cost_usd
    from usage
)
select * from final
