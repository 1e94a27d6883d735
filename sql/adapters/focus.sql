-- focus: FinOps FOCUS 1.0-1.3 cost and usage rows -> canonical, AI and Machine Learning rows only.
-- Grain: one row per FOCUS row (charge period x SKU/meter x sub account x tags); only its token class is set;
-- Credit / Adjustment rows are money only. FOCUS has no row id: keyed on content.
-- Traps (docs/research.md "FOCUS"): ProviderName became ServiceProviderName in 1.3; units `Tokens`, `1000 Tokens`,
-- `1M Tokens` (ConsumedUnit, else PricingUnit); null as empty field; Tags a JSON object; BilledCost in
-- BillingCurrency (USD as is; else / x_BillingExchangeRate when given; else the file fails).
-- Labels (usage_raw.labels, migration 024; attribution rules `field: label:<name>`): every tag of `Tags` (a
-- scalar as its text; macros json_object_pairs, label_map); the tags `team` and `workload` also fill those columns.
with ai_rows as (
    select
        *,
        upper(trim(BillingCurrency)) as currency,
        coalesce(nullif(trim(SkuMeter), ''), nullif(trim(x_SkuMeterName), ''), nullif(trim(ChargeDescription), ''),
                 nullif(trim(SkuId), '')) as meter_text,
        coalesce(nullif(trim(ServiceProviderName), ''), nullif(trim(ProviderName), '')) as provider_name,
        -- SkuPriceDetails (FOCUS 1.1+): a JSON object of the price's properties; a key naming the model
        -- (`ModelId`, `ModelName`, `Model`, or x_-prefixed) is read
        case when json_valid(SkuPriceDetails) and json_type(SkuPriceDetails) = 'OBJECT' then
            list_filter(list_transform(json_keys(SkuPriceDetails), lambda k: {'k': k, 'v': SkuPriceDetails ->> k}),
                        lambda e: regexp_matches(lower(e.k), '^(x_)?model(_?(id|name))?$')
                                  and nullif(trim(e.v), '') is not null)[1].v
        end as details_model,
        -- the 1.5 draft's SkuPriceDetails properties: TokenDirection Input/Output, TokenCacheAction
        -- Uncached/Read/Write, ModelFamily
        case when json_valid(SkuPriceDetails) then lower(trim(SkuPriceDetails ->> 'TokenDirection')) end
            as details_direction,
        case when json_valid(SkuPriceDetails) then lower(trim(SkuPriceDetails ->> 'TokenCacheAction')) end
            as details_cache,
        case when json_valid(SkuPriceDetails) then nullif(trim(SkuPriceDetails ->> 'ModelFamily'), '') end
            as details_family,
        case when json_valid(Tags) then Tags end as tags_json,
        -- the quantity and its unit: consumed, else pricing
        case when nullif(trim(ConsumedQuantity), '') is not null then ConsumedQuantity else PricingQuantity end as qty,
        lower(trim(case when nullif(trim(ConsumedQuantity), '') is not null then ConsumedUnit else PricingUnit end))
            as unit
    from src
    where ServiceCategory = 'AI and Machine Learning'
      and ChargeCategory in ('Usage', 'Credit', 'Adjustment')
),
parsed as (
    select
        *,
        lower(meter_text) as m,
        -- `<model>/<token type>` (the spec's recommendation) or an Azure meter name
        case when meter_text like '%/%' then trim(split_part(meter_text, '/', 1)) end as slash_model,
        case when meter_text like '%/%' then lower(trim(split_part(meter_text, '/', 2))) end as slash_class,
        regexp_extract(unit, '^(\d[\d,]*)?\s*(k|m)?\s*tokens?$', ['n', 'scale']) as unit_parts,
        regexp_matches(unit, '^(\d[\d,]*)?\s*(k|m)?\s*tokens?$') as in_tokens
    from ai_rows
),
classed as (
    select
        *,
        case
            when ChargeCategory <> 'Usage' or not in_tokens then null
            when details_direction = 'output' then 'output'
            when details_direction = 'input' and details_cache = 'read' then 'cache_read'
            when details_direction = 'input' and details_cache = 'write' then 'cache_write'
            when details_direction = 'input' then 'input'
            when regexp_matches(coalesce(slash_class, m), 'cache[ _-]?(read|hit)|cached') then 'cache_read'
            when regexp_matches(coalesce(slash_class, m), 'cache[ _-]?(write|creation)') then 'cache_write'
            when regexp_matches(coalesce(slash_class, m), '(^|[^a-z])(output|outp|outpt|completion)') then 'output'
            when regexp_matches(coalesce(slash_class, m), '(^|[^a-z])(input|inp|inpt|prompt)') then 'input'
        end as token_class,
        coalesce(
            -- "$3.00 per million input tokens for Claude Sonnet 4.5 in US East (N. Virginia)"
            nullif(regexp_replace(regexp_extract(m, '\bfor ([a-z][a-z0-9 .:_/-]*?)( in [a-z].*)?$', 1), '\s+', '-', 'g'),
                   ''),
            nullif(regexp_extract(regexp_replace(m, '[\s_]+', '-', 'g'),
            '^(.*?)(-\d{4})?-(cached|cache|inp|inpt|input|outp|outpt|output|batch|provisioned|ptu)(-|$)', 1), ''), m) as meter_model,
        -- the last path part of a resource name (a Bedrock model ARN ends in the model id)
        nullif(regexp_extract(trim(ResourceName), '([^/:]+(:\d+)?)$', 1), '') as resource_model,
        cast(replace(coalesce(nullif(unit_parts.n, ''), '1'), ',', '') as bigint)
            * case unit_parts.scale when 'k' then 1000 when 'm' then 1000000 else 1 end as unit_factor
    from parsed
),
resolved as (
    select
        *,
        -- the model, first that names one: FOCUS 1.5 draft ModelId, the `<model>/<token type>` SKU meter,
        -- SkuPriceDetails, the meter text (Azure meter names), the resource name, the draft ModelFamily; a text that
        -- is only a token class ("Input Tokens", "output tokens") names no model
        coalesce(
            nullif(trim(ModelId), ''),
            case when not regexp_matches(lower(coalesce(slash_model, '')), '^[\s_/-]*$') then slash_model end,
            nullif(trim(details_model), ''),
            case when not regexp_matches(meter_model, '^[\s_/().-]*((uncached|cached|cache|read|write|creation|input|output|prompt|completion|inp|outp|inpt|outpt|reasoning|thinking|text|audio|image|tokens?|count|units?|batch|standard|global|regional|for|per|million|thousand|1k|1m)[\s_/().-]*)*$')
                 then meter_model end,
            case when resource_model is not null
                      and regexp_matches(lower(resource_model), 'gpt|claude|gemini|llama|mistral|nova|titan|cohere|command|jamba|deepseek|qwen|embed|o[1-9]')
                 then resource_model end,
            nullif(trim(ModelFamily), ''),
            details_family) as model_found,
        -- infrastructure under an AI service (VMs, disks, storage, bandwidth): not model usage
        ChargeCategory = 'Usage' and not in_tokens
            and nullif(trim(ModelId), '') is null and slash_model is null and nullif(trim(details_model), '') is null
            and not regexp_matches(coalesce(m, ''), 'gpt|claude|gemini|llama|mistral|nova|titan|cohere|jamba|deepseek|qwen|embedding|ptu|provisioned|token|character|image')
            and (regexp_matches(coalesce(unit, ''), 'hour|\bhr|gb|gib|tb|byte|month|core|vcpu|instance|node')
                 or regexp_matches(lower(concat_ws(' ', meter_text, ResourceType)),
                                   'virtual machine|\bvm\b|disk|storage|bandwidth|data transfer|egress|ingress|ip address|compute|instance|cluster|node|gpu'))
            as infrastructure
    from classed
),
final as (
    select
        _row,
        null as _key,
        ChargePeriodStart as ts,
        case date_diff('second', try_cast(ChargePeriodStart as timestamptz), try_cast(ChargePeriodEnd as timestamptz))
            when 3600 then 'hour'
            when 86400 then 'day'
            else 'month'
        end as granularity,
        case
            -- infrastructure keeps its money under the cloud's own name, never an AI provider's
            when infrastructure and (provider_name ilike '%amazon%' or provider_name ilike 'aws%') then 'aws'
            when infrastructure and provider_name ilike '%microsoft%' then 'azure'
            when infrastructure and provider_name ilike '%google%' then 'google-cloud'
            when infrastructure then regexp_replace(lower(trim(coalesce(provider_name, 'cloud'))), '[^a-z0-9]+', '-', 'g')
            when ServiceName ilike '%bedrock%' then 'aws-bedrock'
            when ServiceName ilike '%vertex%' or ServiceName ilike '%gemini%' then 'google-vertex'
            when ServiceName ilike '%openai%' and provider_name ilike '%microsoft%' then 'azure-openai'
            when ServiceName ilike '%foundry%' or provider_name ilike '%microsoft%' then 'azure-openai'
            when provider_name ilike '%amazon%' or provider_name ilike 'aws%' then 'aws-bedrock'
            when provider_name ilike '%google%' then 'google-vertex'
            else regexp_replace(lower(trim(provider_name)), '[^a-z0-9]+', '-', 'g')
        end as provider,
        -- `gpt-4-8k` context variants price as their model
        case when infrastructure then 'infrastructure'
             -- a credit or adjustment names a model only in a model column
             when ChargeCategory <> 'Usage' and coalesce(nullif(trim(ModelId), ''), slash_model,
                                                         nullif(trim(details_model), '')) is null
                 then lower(ChargeCategory)
             -- `claude-sonnet-4.5` (a display name) is the catalog's claude-sonnet-4-5
             when lower(model_found) like 'claude%' then regexp_replace(lower(replace(model_found, '.', '-')), '-(8k|32k|128k)$', '')
             else coalesce(regexp_replace(model_found, '-(8k|32k|128k)$', ''), 'unknown') end as model,
        meter_text as model_raw,
        BillingAccountId as account,
        SubAccountId as project,
        null as api_key,
        null as user_id,
        tags_json ->> 'team' as team,
        tags_json ->> 'workload' as workload,
        label_map(json_object_pairs(tags_json)) as labels,
        case when infrastructure then 'other' when m like '%embed%' then 'embeddings' else 'chat' end as operation,
        case
            when regexp_matches(m, '(^|[^a-z])batch') then 'batch'
            when regexp_matches(m, '(^|[^a-z])flex') then 'flex'
            when regexp_matches(m, '(^|[^a-z])priority') then 'priority'
            else 'standard'
        end as service_tier,
        0 as requests,
        coalesce(cast(round(try_cast(qty as double) * unit_factor) as varchar), nullif(trim(qty), '')) as tokens,
        case when token_class = 'input' then tokens else '0' end as input_tokens,
        case when token_class = 'cache_read' then tokens else '0' end as cache_read_tokens,
        case when token_class = 'cache_write' then tokens else '0' end as cache_write_tokens,
        case when token_class = 'output' then tokens else '0' end as output_tokens,
        -- x_ReasoningTokens (ModelMix's own FOCUS export): the reasoning inside an output row's tokens
        case when token_class = 'output' then coalesce(nullif(trim(x_ReasoningTokens), ''), '0') else '0' end
            as reasoning_tokens,
        case
            when currency = 'USD' then BilledCost
            when try_cast(x_BillingExchangeRate as double) > 0
                then cast(try_cast(BilledCost as decimal(38, 12)) / cast(x_BillingExchangeRate as decimal(38, 12))
                          as varchar)
            else error('BillingCurrency is ' || coalesce(currency, 'empty')
                       || ', not USD, and the file gives no exchange rate (x_BillingExchangeRate)')
        end as cost_usd
    from resolved
)
select * exclude (tokens) from final
