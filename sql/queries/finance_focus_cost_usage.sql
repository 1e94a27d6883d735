-- finance_focus_cost_usage: a month of counted spend as FOCUS 1.2 Cost and Usage rows with the AI columns of the
-- FOCUS 1.5 working draft (docs/research.md "FOCUS"; docs/finance.md "FOCUS for AI"): one row per day x provider x
-- account
-- x project x team x workload x model x service tier x label set x token class (input = uncached input, cache read, cache
-- write, output with reasoning included). Mandatory columns always set; times ISO 8601 UTC with Z
-- (ChargePeriodEnd exclusive); currency 'USD'; ServiceCategory 'AI and Machine Learning'.
-- ConsumedQuantity / PricingQuantity = the class's tokens (unit 'Tokens'); SkuMeter '<model>/<class>';
-- SkuPriceDetails (JSON, 1.5 draft properties) = ModelDeveloper, ModelFamily, ModelVersion where the model id
-- says them, ModelId, TokenDirection (Input | Output: reasoning is output), TokenCacheAction (Uncached | Read |
-- Write; input classes only). A property that is not known is left out, never null.
-- Money: a group's counted spend (billed where reported, else list) is shared over its classes by their list
-- cost (by tokens when the model is unpriced), in micro-dollars, the remainder on the largest class, so the
-- month's BilledCost adds up exactly. ListCost = ContractedCost = the class's list cost (catalog in force with
-- overrides and the batch tier; no long-context tier split), the billed share where unpriced. List prices per
-- class: macro token_class_prices (migration 022), as finance_regression_daily prices them. A group without tokens (a money-only line) is one
-- row with no token class, quantity or unit price.
-- x_Requests sits on the group's largest row only, so summing it counts each request once. Usage with neither a
-- billed nor a list cost (an unpriced model in a log without cost) has BilledCost 0 and x_CostUnknown true.
-- Tags: the group's labels (usage_daily.labels) with team and workload.
-- Grain: one row per day x provider x account x project x team x workload x model x service_tier x label set x
-- token class.
-- Params: $month_start, $month_end (dates, inclusive; one billing period).
with daily as (
    select *, cast(day as timestamp) as price_at from usage_daily where day between $month_start and $month_end and in_spend
),
priced as (
    -- list prices per token class in force that day (macro of migration 022)
    select * from token_class_prices(daily)
),
grouped as (
    select
        day, provider, account, project, team, workload, model, service_tier, labels,
        -- usage of a model with no price and no billed cost has no known cost: 0 here (BilledCost is never
        -- null in FOCUS), flagged in x_CostUnknown
        coalesce(sum(spend_usd), 0) as spend_usd,
        sum(spend_usd) is null as cost_unknown,
        sum(requests)::bigint as requests,
        sum(reasoning_tokens)::bigint as reasoning_tokens,
        [
            {'token_class': 'input', 'tokens': sum(input_tokens)::bigint,
             'list_usd': sum(input_tokens * p_in * factor) / 1e6},
            {'token_class': 'cache_read', 'tokens': sum(cache_read_tokens)::bigint,
             'list_usd': sum(cache_read_tokens * p_cr * factor) / 1e6},
            {'token_class': 'cache_write', 'tokens': sum(cache_write_tokens)::bigint,
             'list_usd': sum(cache_write_tokens * p_cw * factor) / 1e6},
            {'token_class': 'output', 'tokens': sum(output_tokens)::bigint,
             'list_usd': sum(output_tokens * p_out * factor) / 1e6}
        ] as classes
    from priced
    group by all
),
-- one row per class with tokens; a group with no tokens at all keeps one row without a class
class_rows as (
    select
        g.* exclude (classes),
        c.token_class, c.tokens, c.list_usd
    from grouped as g,
        unnest(case when list_sum(list_transform(g.classes, lambda x: x.tokens)) > 0
                    then list_filter(g.classes, lambda x: x.tokens > 0)
                    else [{'token_class': null, 'tokens': null, 'list_usd': null}] end) as u(c)
),
weighted as (
    select
        *,
        -- list cost share when the group is priced, else token share; a money-only group is its single row
        case
            when sum(coalesce(list_usd, 0)) over grp > 0 then coalesce(list_usd, 0) / sum(coalesce(list_usd, 0)) over grp
            when sum(tokens) over grp > 0 then tokens / sum(tokens) over grp
            else 1.0
        end as share,
        sum(coalesce(list_usd, 0)) over grp > 0 as group_priced,
        row_number() over (partition by day, provider, account, project, team, workload, model, service_tier, labels
                           order by coalesce(list_usd, 0) desc, tokens desc nulls last, token_class) as rank_in_group
    from class_rows
    window grp as (partition by day, provider, account, project, team, workload, model, service_tier, labels)
),
shared as (
    select
        *,
        cast(spend_usd * share as decimal(18, 6)) as rounded_usd
    from weighted
),
costed as (
    select
        *,
        -- the largest class takes the rounding remainder: the group's rows add up to its spend exactly
        case when rank_in_group = 1
             then cast(spend_usd - (sum(rounded_usd) over (partition by day, provider, account, project, team,
                                        workload, model, service_tier, labels) - rounded_usd) as decimal(18, 6))
             else rounded_usd end as billed_usd
    from shared
),
named as (
    select
        *,
        case provider
            when 'openai' then 'OpenAI' when 'anthropic' then 'Anthropic' when 'aws-bedrock' then 'Amazon Web Services'
            when 'azure-openai' then 'Microsoft' when 'google-vertex' then 'Google Cloud'
            when 'openrouter' then 'OpenRouter' else provider end as provider_name,
        case provider
            when 'openai' then 'OpenAI API' when 'anthropic' then 'Claude API' when 'aws-bedrock' then 'Amazon Bedrock'
            when 'azure-openai' then 'Azure OpenAI' when 'google-vertex' then 'Vertex AI'
            when 'openrouter' then 'OpenRouter API' else provider || ' API' end as service_name,
        case
            when model ilike 'claude%' or model ilike '%anthropic.claude%' then 'Anthropic'
            when model ilike 'gpt%' or regexp_matches(model, '^o[0-9]') or model ilike 'text-embedding%' then 'OpenAI'
            when model ilike 'gemini%' then 'Google'
            when model ilike '%llama%' then 'Meta'
            when model ilike '%mistral%' then 'Mistral AI'
            when model ilike '%nova%' or model ilike '%titan%' then 'Amazon'
        end as model_publisher,
        regexp_extract(lower(model), '^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d))?(?:-\d{8})?$', ['tier', 'major', 'minor'])
            as claude_new,
        regexp_extract(lower(model), '^claude-(\d)(?:-(\d))?-(opus|sonnet|haiku)(?:-\d{8})?$', ['major', 'minor', 'tier'])
            as claude_old,
        regexp_extract(lower(model), '^gpt-(\d+(?:\.\d+)?o?)(?:-[a-z]+)*(?:-\d{4}-\d{2}-\d{2})?$', ['version'])
            as gpt,
        regexp_extract(lower(model), '^gemini-(\d+(?:\.\d+)?)-(pro|flash-lite|flash)', ['version', 'tier']) as gemini
    from costed
),
identity as (
    select
        *,
        case
            when claude_new.tier <> '' then 'Claude ' || upper(claude_new.tier[1]) || claude_new.tier[2:]
            when claude_old.tier <> '' then 'Claude ' || upper(claude_old.tier[1]) || claude_old.tier[2:]
            when gpt.version <> '' then 'GPT'
            when gemini.tier <> '' then 'Gemini ' || case gemini.tier when 'pro' then 'Pro' when 'flash' then 'Flash'
                                                        else 'Flash-Lite' end
        end as model_family,
        case
            when claude_new.tier <> '' then claude_new.major || coalesce('.' || nullif(claude_new.minor, ''), '')
            when claude_old.tier <> '' then claude_old.major || coalesce('.' || nullif(claude_old.minor, ''), '')
            when gpt.version <> '' then gpt.version
            when gemini.tier <> '' then gemini.version
        end as model_version
    from named
),
final as (
    select
        billed_usd as BilledCost,
        coalesce(nullif(account, ''), provider) as BillingAccountId,
        nullif(account, '') as BillingAccountName,
        'USD' as BillingCurrency,
        strftime(cast(date_trunc('month', day) + interval 1 month as timestamp), '%Y-%m-%dT%H:%M:%SZ') as BillingPeriodEnd,
        strftime(cast(date_trunc('month', day) as timestamp), '%Y-%m-%dT%H:%M:%SZ') as BillingPeriodStart,
        'Usage' as ChargeCategory,
        cast(null as varchar) as ChargeClass,
        model || case token_class
            when 'input' then ' uncached input tokens' when 'cache_read' then ' cache read input tokens'
            when 'cache_write' then ' cache write input tokens' when 'output' then ' output tokens (reasoning included)'
            else ' usage' end || ' (' || service_tier || ' tier)' as ChargeDescription,
        'Usage-Based' as ChargeFrequency,
        strftime(cast(day + interval 1 day as timestamp), '%Y-%m-%dT%H:%M:%SZ') as ChargePeriodEnd,
        strftime(cast(day as timestamp), '%Y-%m-%dT%H:%M:%SZ') as ChargePeriodStart,
        cast(tokens as decimal(38, 1)) as ConsumedQuantity,
        case when token_class is not null then 'Tokens' end as ConsumedUnit,
        cast(case when group_priced then coalesce(list_usd, billed_usd) else billed_usd end as decimal(18, 6))
            as ContractedCost,
        case when group_priced and tokens > 0 then cast(list_usd / tokens as decimal(24, 12)) end as ContractedUnitPrice,
        billed_usd as EffectiveCost,
        provider_name as InvoiceIssuerName,
        cast(case when group_priced then coalesce(list_usd, billed_usd) else billed_usd end as decimal(18, 6)) as ListCost,
        case when group_priced and tokens > 0 then cast(list_usd / tokens as decimal(24, 12)) end as ListUnitPrice,
        case when service_tier = 'standard' then 'Standard' else 'Other' end as PricingCategory,
        cast(tokens as decimal(38, 1)) as PricingQuantity,
        case when token_class is not null then 'Tokens' end as PricingUnit,
        provider_name as ProviderName,
        coalesce(model_publisher, provider_name) as PublisherName,
        'AI and Machine Learning' as ServiceCategory,
        service_name as ServiceName,
        'Generative AI' as ServiceSubcategory,
        model as SkuId,
        case when token_class is not null then model || '/' || token_class end as SkuMeter,
        case when token_class is not null
             then provider || '/' || model || '/' || token_class || '/' || service_tier end as SkuPriceId,
        case when token_class is not null then cast(to_json(map_from_entries(list_filter([
            struct_pack(k := 'ModelDeveloper', v := model_publisher),
            struct_pack(k := 'ModelFamily', v := model_family),
            struct_pack(k := 'ModelId', v := model),
            struct_pack(k := 'ModelVersion', v := model_version),
            struct_pack(k := 'TokenDirection', v := case when token_class = 'output' then 'Output' else 'Input' end),
            struct_pack(k := 'TokenCacheAction', v := case token_class when 'input' then 'Uncached'
                when 'cache_read' then 'Read' when 'cache_write' then 'Write' end)
        ], lambda e: e.v is not null))) as varchar) end as SkuPriceDetails,
        nullif(project, '') as SubAccountId,
        nullif(project, '') as SubAccountName,
        -- the usage's labels (migration 024: OTel attributes, FOCUS Tags, GCP labels) with team and workload
        -- (which win over a label of the same name)
        case when labels is null then cast(json_object('team', team, 'workload', workload) as varchar)
             else cast(to_json(map_concat(labels, map {'team': team, 'workload': workload})) as varchar)
        end as Tags,
        team as x_Team,
        model as x_Model,
        service_tier as x_ServiceTier,
        token_class as x_TokenClass,
        case when rank_in_group = 1 then requests end as x_Requests,
        case when token_class = 'output' then reasoning_tokens end as x_ReasoningTokens,
        cost_unknown as x_CostUnknown
    from identity
    order by ChargePeriodStart, ProviderName, BillingAccountId, SubAccountId, x_Team, SkuId, x_ServiceTier,
        x_TokenClass, Tags
)
select * from final
