-- bedrock-invocation-logs: Amazon Bedrock model invocation log documents -> canonical.
-- Grain: one row per invocation (granularity `request`); key = requestId.
-- `src` is one row per JSON document, or a CloudWatch Logs Insights result: {"results": [[{field, value}, ...]]},
-- a bare array of such rows, or a flat array of cells; there the invocation record is the JSON text of the
-- `@message` cell (or, when the query picked fields, the cells themselves by dotted name), and `_row` counts events.
-- Fields are read through the document's JSON text, so a field some documents lack (cache counts, identity,
-- requestMetadata) is null rather than a binder error, and a bad value reaches the framework's checks as written.
-- inputTokenCount is already the non-cached input; cache reads and writes are their own counts. modelId: the foundation model id, an inference profile id (`us.` / `eu.` / `apac.` / `global.`
-- prefix: regional or global cross-region inference) or an ARN whose last path part is the id.
with raw as (
    select _row, to_json(s) as j
    from src as s
),
insights as (
    -- CloudWatch Logs Insights results (GetQueryResults JSON / the console's JSON download): one `src` row holds
    -- {"results": [[{field, value}, ...], ...]}; each inner list is one log event
    select _row, unnest(json_extract(j, '$.results[*]')) as cells,
           generate_subscripts(json_extract(j, '$.results[*]'), 1) as i
    from raw
    where json_type(j, '$.results') = 'ARRAY'
),
events as (
    select _row, i, cells from insights
    union all
    -- the same rows without the envelope: a JSON array of rows, each `src` row one list of cells
    select _row, 1 as i, j -> '$.json' as cells from raw where json_type(j, '$.json') = 'ARRAY'
    union all
    -- a flat list of cells: each @message cell is one event
    select _row, 1 as i, json_array(j) as cells from raw where j ->> '$.field' = '@message'
),
event_docs as (
    select
        _row,
        i,
        list_transform(json_extract(cells, '$[*]'), lambda c: {'k': c ->> '$.field', 'v': c ->> '$.value'})
            as kv
    from events
),
event_json as (
    select
        _row,
        i,
        -- the invocation record is the @message JSON; a query that selected fields instead (`fields modelId,
        -- input.inputTokenCount, ...`) gives them as cells, read by their dotted names
        coalesce(
            case when json_valid(list_filter(kv, lambda e: e.k = '@message')[1].v)
                 then cast(list_filter(kv, lambda e: e.k = '@message')[1].v as json) end,
            to_json(map_from_entries(list_transform(list_filter(kv, lambda e: e.k is not null and e.k <> '@message'),
                                                    lambda e: {'key': e.k, 'value': e.v}))))
            as doc
    from event_docs
),
all_docs as (
    select _row, i, doc from event_json
    union all
    -- S3 / CloudWatch export: every `src` row is one invocation document
    select _row, 1 as i, j as doc
    from raw
    where json_type(j, '$.results') is distinct from 'ARRAY'
      and json_type(j, '$.json') is distinct from 'ARRAY'
      and j ->> '$.field' is null
),
docs as (
    select
        row_number() over (order by _row, i) as _row,
        list_transform(
            [
                ['$.timestamp', '$."@timestamp"'],                                          -- 1
                ['$.requestId', '$."requestId"'],                                           -- 2
                ['$.modelId', '$."modelId"'],                                               -- 3
                ['$.operation', '$."operation"'],                                           -- 4
                ['$.accountId', '$."accountId"'],                                           -- 5
                ['$.identity.arn', '$."identity.arn"'],                                     -- 6
                ['$.input.inputTokenCount', '$."input.inputTokenCount"'],                   -- 7
                ['$.input.cacheReadInputTokenCount', '$."input.cacheReadInputTokenCount"'], -- 8
                ['$.input.cacheWriteInputTokenCount', '$."input.cacheWriteInputTokenCount"'], -- 9
                ['$.output.outputTokenCount', '$."output.outputTokenCount"'],               -- 10
                ['$.requestMetadata.team', '$."requestMetadata.team"'],                     -- 11
                ['$.requestMetadata.project', '$."requestMetadata.project"'],               -- 12
                ['$.requestMetadata.workload', '$."requestMetadata.workload"'],             -- 13
                ['$.serviceTier', '$."serviceTier"'],                                       -- 14
                ['$.errorCode', '$."errorCode"']                                            -- 15
            ],
            lambda p: coalesce(json_extract_string(doc, p[1]), json_extract_string(doc, p[2]))) as f
    from all_docs
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
