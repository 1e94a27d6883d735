-- openrouter-generations-csv: OpenRouter Activity export, per-generation CSV -> canonical.
-- Grain: one row per generation (generation_id, the natural key). created_at is naive UTC with milliseconds.
-- tokens_prompt includes tokens_cached, so cached tokens are subtracted for input_tokens; tokens_completion
-- includes tokens_reasoning. cost_total is USD charged by OpenRouter. model_permaslug is the model (a slug
-- such as openai/gpt-oss-120b; dated permaslugs keep their date). api_key_name -> api_key, app_name -> project.
with cells as (
    select
        _row,
        nullif(trim(generation_id), '') as generation_id,
        nullif(trim(created_at), '') as created_txt,
        nullif(trim(cost_total), '') as cost_txt,
        nullif(trim(tokens_prompt), '') as prompt_txt,
        nullif(trim(tokens_completion), '') as completion_txt,
        nullif(trim(tokens_reasoning), '') as reasoning_txt,
        nullif(trim(tokens_cached), '') as cached_txt,
        nullif(trim(model_permaslug), '') as slug,
        nullif(trim(api_key_name), '') as key_name,
        nullif(trim(app_name), '') as app,
        nullif(trim("user"), '') as user_txt
    from src
),
final as (
    select
        _row,
        generation_id as _key,
        created_txt as ts,
        'request' as granularity,
        'openrouter' as provider,
        coalesce(slug, 'unknown') as model,
        slug as model_raw,
        null as account,
        app as project,
        key_name as api_key,
        user_txt as user_id,
        null as team,
        null as workload,
        'chat' as operation,
        'standard' as service_tier,
        1 as requests,
        prompt_txt as _raw_input_tokens,
        try_cast(prompt_txt as double) - coalesce(try_cast(cached_txt as double), 0) as input_tokens,
        cached_txt as cache_read_tokens,
        0 as cache_write_tokens,
        -- thinking reported above the completion is added to it (macro output_with_reasoning, migration 023)
        completion_txt as _raw_output_tokens,
        output_with_reasoning(completion_txt, reasoning_txt) as output_tokens,
        reasoning_txt as reasoning_tokens,
        cost_txt as cost_usd
    from cells
)
select * from final
