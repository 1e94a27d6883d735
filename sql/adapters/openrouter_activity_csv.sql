-- openrouter-activity-csv: OpenRouter Activity export, daily aggregate CSV -> canonical.
-- Grain: one row per day x model slug. Header: Date,Slug,Usage,BYOK Usage,Requests,Prompt Tokens,Completion
-- Tokens,Reasoning Tokens; every value quoted text. Usage is USD charged by OpenRouter (cost_usd); BYOK Usage is
-- spend on the company's own provider key, billed by that provider, so it is not OpenRouter's cost and is not
-- read. Prompt tokens carry no cache split here; Completion Tokens include Reasoning Tokens.
with cells as (
    select
        _row,
        nullif(trim("Date"), '') as day_txt,
        nullif(trim("Slug"), '') as slug,
        nullif(trim("Usage"), '') as usage_txt,
        nullif(trim("Requests"), '') as requests_txt,
        nullif(trim("Prompt Tokens"), '') as prompt_txt,
        nullif(trim("Completion Tokens"), '') as completion_txt,
        nullif(trim("Reasoning Tokens"), '') as reasoning_txt
    from src
),
final as (
    select
        _row,
        concat_ws('|', 'openrouter-activity', day_txt, coalesce(slug, '')) as _key,
        day_txt as ts,
        'day' as granularity,
        'openrouter' as provider,
        coalesce(slug, 'unknown') as model,
        slug as model_raw,
        null as account,
        null as project,
        null as api_key,
        null as user_id,
        null as team,
        null as workload,
        'chat' as operation,
        'standard' as service_tier,
        requests_txt as requests,
        prompt_txt as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        -- thinking reported above the completion is added to it (macro output_with_reasoning, migration 023)
        completion_txt as _raw_output_tokens,
        output_with_reasoning(completion_txt, reasoning_txt) as output_tokens,
        reasoning_txt as reasoning_tokens,
        usage_txt as cost_usd
    from cells
)
select * from final
