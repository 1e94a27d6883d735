-- bedrock-invocation-logs: Amazon Bedrock model invocation log documents -> canonical.
-- Grain: one row per invocation (granularity `request`); key = requestId.
-- `src` is one row per JSON document. Fields are read through the document's JSON text, so a field some documents
-- lack (cache counts, identity, requestMetadata) is null rather than a binder error, and a bad value reaches the
-- framework's checks as written. inputTokenCount is already the non-cached input; cache reads and writes are
-- their own counts. modelId: the foundation model id, an inference profile id (`us.` / `eu.` / `apac.` / `global.`
-- prefix: regional or global cross-region inference) or an ARN whose last path part is the id.
with docs as (
    select
        _row,
        json_extract_string(to_json(s), [
            '$.timestamp',                          -- 1
            '$.requestId',                          -- 2
            '$.modelId',                            -- 3
            '$.operation',                          -- 4
            '$.accountId',                          -- 5
            '$.identity.arn',                       -- 6
            '$.input.inputTokenCount',              -- 7
            '$.input.cacheReadInputTokenCount',     -- 8
            '$.input.cacheWriteInputTokenCount',    -- 9
            '$.output.outputTokenCount',            -- 10
            '$.requestMetadata.team',               -- 11
            '$.requestMetadata.project',            -- 12
            '$.requestMetadata.workload',           -- 13
            '$.serviceTier',                        -- 14
            '$.errorCode'                           -- 15
        ]) as f
    from src as s
),
named as (
    select
        *,
        -- an inference profile ARN ends in the profile id; an application inference profile has no model in it
        regexp_replace(f[3], '^arn:aws:bedrock:[^:]*:[^:]*:(foundation-model|inference-profile)/', '') as model_id
    from docs
),
final as (
    select
        _row,
        f[2] as _key,
        f[1] as ts,
        'request' as granularity,
        'aws-bedrock' as provider,
        -- a geo cross-region profile (`us.anthropic.claude-…`) prices like its regional model; `global.` ids stay (own prices)
        regexp_replace(model_id, '^(us|eu|apac|us-gov)\.', '') as model,
        f[3] as model_raw,
        f[5] as account,
        f[12] as project,
        null as api_key,
        f[6] as user_id,
        f[11] as team,
        f[13] as workload,
        case when f[4] is null or f[4] in ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
            then 'chat' else 'other' end as operation,
        case lower(coalesce(f[14], 'standard'))
            when 'default' then 'standard' else lower(coalesce(f[14], 'standard')) end as service_tier,
        1 as requests,
        f[7] as input_tokens,
        f[8] as cache_read_tokens,
        f[9] as cache_write_tokens,
        f[10] as output_tokens,
        0 as reasoning_tokens,
        null as cost_usd
    from named
)
select * from final
