-- otel-genai-spans: OTLP JSON trace export (Collector file exporter) -> canonical.
-- Grain: one row per model-call span (granularity `request`); key = spanId.
-- `src` is one row per export request (a line): resourceSpans -> scopeSpans -> spans are unnested in file order
-- and `_row` is the span's position among all spans of the file (so a reject names the N-th span).
-- Attributes are `[{key, value: {stringValue | intValue (a JSON string) | doubleValue | boolValue | ...}}]`;
-- they are unnested to (span, key, value) and pivoted back, one `max() filter` per attribute read, so a repeated
-- key never fails the file. Span attributes win over scope and resource attributes of the same name.
-- Kept: gen_ai.operation.name chat | text_completion | generate_content | embeddings (OpenLLMetry's older
-- llm.request.type chat | completion | embedding), or no operation name but a request/response model. Agent and
-- tool spans (invoke_agent, create_agent, execute_tool) and non-GenAI spans are dropped: skipped, not rejected.
-- Tokens: gen_ai.usage.input_tokens includes cache reads and writes (semconv: SHOULD), which are subtracted;
-- when it is smaller than their sum the instrumentation reported the uncached count, kept as it is. Output
-- tokens include reasoning (gen_ai.usage.reasoning.output_tokens). Deprecated names are read after the current
-- ones: gen_ai.system, gen_ai.usage.prompt_tokens / completion_tokens, gen_ai.usage.cache_read_input_tokens,
-- gen_ai.usage.cache_creation_input_tokens, gen_ai.openai.*.service_tier.
-- Dimensions: project = resource service.name (so attribution rules on `project` match a service); account =
-- cloud.account.id, else service.namespace; user_id = user.id, else enduser.id; team / workload = attributes
-- `team` / `workload` (span, else resource, e.g. OTEL_RESOURCE_ATTRIBUTES=team=search); session_id =
-- gen_ai.conversation.id, else session.id (the simulator's conversation unit, usage_raw.session_id).
-- Labels (usage_raw.labels, migration 024; attribution rules `field: label:<name>`): every resource, scope and span
-- attribute with a scalar value (the innermost level's, as above) except those mapped to a column here and the
-- per-request, per-process and content namespaces, which would make each request its own dimension set or carry
-- prompt text: gen_ai.*, llm.*, openai.*, traceloop.entity.* (OpenLLMetry's input/output), telemetry.*
-- (the SDK), process.*, http.*, url.*, service.instance.id. Values over 256 characters are dropped (macro label_map).
with requests as (
    select _row as line, cast(to_json(s) -> '$.resourceSpans' as json[]) as resource_spans
    from src as s
),
resources as (
    select line, unnest(resource_spans) as r, unnest(range(len(resource_spans))) as ri
    from requests
),
scopes as (
    select line, ri, r -> '$.resource.attributes' as resource_attrs,
           cast(r -> '$.scopeSpans' as json[]) as scope_spans
    from resources
),
scope_rows as (
    select line, ri, resource_attrs, unnest(scope_spans) as s, unnest(range(len(scope_spans))) as si
    from scopes
),
span_lists as (
    select line, ri, si, resource_attrs, s -> '$.scope.attributes' as scope_attrs,
           cast(s -> '$.spans' as json[]) as spans
    from scope_rows
),
span_rows as (
    select line, ri, si, resource_attrs, scope_attrs, unnest(spans) as span, unnest(range(len(spans))) as pi
    from span_lists
),
numbered as (
    select
        row_number() over (order by line, ri, si, pi) as _row,
        span ->> '$.spanId' as span_id,
        span ->> '$.startTimeUnixNano' as start_ns,
        resource_attrs, scope_attrs, span -> '$.attributes' as span_attrs
    from span_rows
),
-- (span, level, key, value): level 1 resource, 2 scope, 3 span; a value is its text whatever its type
attrs as (
    select _row, level, a ->> '$.key' as k,
           coalesce(a ->> '$.value.stringValue', a ->> '$.value.intValue', a ->> '$.value.doubleValue',
                    a ->> '$.value.boolValue') as v
    from (
        select _row, 1 as level, unnest(coalesce(cast(resource_attrs as json[]), [])) as a from numbered
        union all
        select _row, 2 as level, unnest(coalesce(cast(scope_attrs as json[]), [])) as a from numbered
        union all
        select _row, 3 as level, unnest(coalesce(cast(span_attrs as json[]), [])) as a from numbered
    )
),
-- the attribute of the innermost level that has it
best as (
    select _row, k, arg_max(v, level) as v
    from attrs
    where v is not null
    group by _row, k
),
pivoted as (
    select
        _row,
        max(v) filter (where k = 'gen_ai.operation.name') as op_name,
        max(v) filter (where k = 'llm.request.type') as llm_request_type,
        max(v) filter (where k = 'gen_ai.provider.name') as provider_name,
        max(v) filter (where k = 'gen_ai.system') as gen_ai_system,
        max(v) filter (where k = 'gen_ai.request.model') as request_model,
        max(v) filter (where k = 'gen_ai.response.model') as response_model,
        max(v) filter (where k = 'gen_ai.usage.input_tokens') as input_tokens,
        max(v) filter (where k = 'gen_ai.usage.prompt_tokens') as prompt_tokens,
        max(v) filter (where k = 'gen_ai.usage.output_tokens') as output_tokens,
        max(v) filter (where k = 'gen_ai.usage.completion_tokens') as completion_tokens,
        max(v) filter (where k = 'gen_ai.usage.cache_read.input_tokens') as cache_read,
        max(v) filter (where k = 'gen_ai.usage.cache_read_input_tokens') as cache_read_old,
        max(v) filter (where k = 'gen_ai.usage.cache_creation.input_tokens') as cache_write,
        max(v) filter (where k = 'gen_ai.usage.cache_creation_input_tokens') as cache_write_old,
        max(v) filter (where k = 'gen_ai.usage.reasoning.output_tokens') as reasoning,
        max(v) filter (where k = 'openai.response.service_tier') as tier_response,
        max(v) filter (where k = 'openai.request.service_tier') as tier_request,
        max(v) filter (where k = 'gen_ai.openai.response.service_tier') as tier_response_old,
        max(v) filter (where k = 'gen_ai.openai.request.service_tier') as tier_request_old,
        max(v) filter (where k = 'service.name') as service_name,
        max(v) filter (where k = 'service.namespace') as service_namespace,
        max(v) filter (where k = 'cloud.account.id') as cloud_account,
        max(v) filter (where k = 'user.id') as user_id,
        max(v) filter (where k = 'enduser.id') as enduser_id,
        max(v) filter (where k = 'team') as team,
        max(v) filter (where k = 'workload') as workload,
        max(v) filter (where k = 'gen_ai.conversation.id') as conversation_id,
        max(v) filter (where k = 'session.id') as session_attr,
        list({'k': k, 'v': v}) filter (where k not in ('service.name', 'service.namespace', 'cloud.account.id',
                                                       'user.id', 'enduser.id', 'team', 'workload',
                                                       'gen_ai.conversation.id', 'session.id', 'service.instance.id')
            and not regexp_matches(k, '^(gen_ai|llm|openai|traceloop\.entity|telemetry|process|http|url)\.'))
            as attr_pairs
    from best
    group by _row
),
spans as (
    select
        n._row, n.span_id, n.start_ns, p.*  exclude (_row),
        lower(coalesce(p.op_name, case lower(p.llm_request_type)
            when 'chat' then 'chat' when 'completion' then 'text_completion' when 'embedding' then 'embeddings'
            else p.llm_request_type end)) as op,
        nullif(trim(coalesce(p.response_model, p.request_model)), '') as model_txt,
        coalesce(p.input_tokens, p.prompt_tokens) as input_txt,
        coalesce(p.cache_read, p.cache_read_old) as cache_read_txt,
        coalesce(p.cache_write, p.cache_write_old) as cache_write_txt,
        lower(coalesce(p.tier_response, p.tier_request, p.tier_response_old, p.tier_request_old)) as tier
    from numbered as n
    left join pivoted as p using (_row)
),
model_calls as (
    select *
    from spans
    where op in ('chat', 'text_completion', 'generate_content', 'embeddings')
       or (op is null and model_txt is not null)
),
final as (
    select
        _row,
        nullif(span_id, '') as _key,
        -- nanoseconds since the epoch as text; an unreadable value reaches the checks as written
        coalesce(strftime(make_timestamp(try_cast(try_cast(start_ns as hugeint) // 1000 as bigint)), '%Y-%m-%dT%H:%M:%S.%fZ'),
                 start_ns) as ts,
        'request' as granularity,
        case
            when lower(coalesce(provider_name, gen_ai_system)) in ('openai') then 'openai'
            when lower(coalesce(provider_name, gen_ai_system)) in ('anthropic') then 'anthropic'
            when lower(coalesce(provider_name, gen_ai_system)) in ('aws.bedrock', 'aws_bedrock', 'bedrock')
                then 'aws-bedrock'
            when lower(coalesce(provider_name, gen_ai_system)) in ('azure.ai.openai', 'az.ai.openai', 'azure',
                'azure_openai', 'azure.ai.inference', 'az.ai.inference') then 'azure-openai'
            when lower(coalesce(provider_name, gen_ai_system)) in ('gcp.vertex_ai', 'gcp.gen_ai', 'gcp.gemini',
                'vertex_ai', 'vertexai', 'gemini', 'google') then 'google-vertex'
            when coalesce(provider_name, gen_ai_system) is not null
                then regexp_replace(lower(trim(coalesce(provider_name, gen_ai_system))), '[._ ]+', '-', 'g')
            -- no provider attribute: the model name says who served it
            when lower(model_txt) like 'claude%' then 'anthropic'
            when regexp_matches(lower(model_txt), '^(gpt|o[0-9]|chatgpt|text-embedding)') then 'openai'
            when lower(model_txt) like 'gemini%' then 'google-vertex'
        end as provider,
        model_txt as model,
        model_txt as model_raw,
        coalesce(cloud_account, service_namespace) as account,
        service_name as project,
        null as api_key,
        coalesce(user_id, enduser_id) as user_id,
        team,
        workload,
        coalesce(conversation_id, session_attr) as session_id,
        label_map(attr_pairs) as labels,
        case when op = 'embeddings' then 'embeddings' else 'chat' end as operation,
        case
            when tier is null or tier in ('default', 'auto', 'standard', 'on_demand') then 'standard'
            when tier = 'scale' then 'priority'
            else tier
        end as service_tier,
        1 as requests,
        input_txt as _raw_input_tokens,
        case
            when try_cast(input_txt as double) >= coalesce(try_cast(cache_read_txt as double), 0)
                                                + coalesce(try_cast(cache_write_txt as double), 0)
                then try_cast(input_txt as double) - coalesce(try_cast(cache_read_txt as double), 0)
                     - coalesce(try_cast(cache_write_txt as double), 0)
            else try_cast(input_txt as double)
        end as input_tokens,
        coalesce(cache_read_txt, '0') as cache_read_tokens,
        coalesce(cache_write_txt, '0') as cache_write_tokens,
        coalesce(output_tokens, completion_tokens, '0') as output_tokens,
        coalesce(reasoning, '0') as reasoning_tokens,
        null as cost_usd
    from model_calls
)
select * from final
