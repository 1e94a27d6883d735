-- finance_focus_cost_usage: a month of counted spend as FOCUS 1.2 Cost and Usage rows (formats.md §8): one row
-- per day x provider x account x project x team x model x service tier. Mandatory columns always set; times
-- ISO 8601 UTC with Z (ChargePeriodEnd exclusive); currency 'USD'; ServiceCategory 'AI and Machine Learning';
-- quantities in tokens; AI detail in x_ columns; team, workload and key in Tags (JSON).
-- BilledCost = EffectiveCost = counted spend (billed where reported, else list). ListCost = ContractedCost =
-- the ledger's list cost (catalog with overrides and the batch tier applied), the spend where unpriced.
-- Grain: one row per day x provider x account x project x team x workload x model x service_tier.
-- Params: $month_start, $month_end (dates, inclusive; one billing period).
with daily as (
    select * from usage_daily where day between $month_start and $month_end and in_spend
),
grouped as (
    select
        day, provider, account, project, team, workload, model, service_tier,
        sum(spend_usd) as spend_usd,
        sum(list_cost_usd) as list_usd,
        sum(requests)::bigint as requests,
        sum(input_tokens)::bigint as input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_tokens)::bigint as cache_write_tokens,
        sum(output_tokens)::bigint as output_tokens
    from daily
    group by all
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
            when model ilike 'claude%' then 'Anthropic'
            when model ilike 'gpt%' or regexp_matches(model, '^o[0-9]') or model ilike 'text-embedding%' then 'OpenAI'
            when model ilike 'gemini%' then 'Google'
            when model ilike '%llama%' then 'Meta'
            when model ilike '%mistral%' then 'Mistral AI'
            when model ilike '%nova%' or model ilike '%titan%' then 'Amazon'
        end as model_publisher
    from grouped
),
final as (
    select
        cast(spend_usd as decimal(18, 6)) as BilledCost,
        coalesce(nullif(account, ''), provider) as BillingAccountId,
        nullif(account, '') as BillingAccountName,
        'USD' as BillingCurrency,
        strftime(cast(date_trunc('month', day) + interval 1 month as timestamp), '%Y-%m-%dT%H:%M:%SZ') as BillingPeriodEnd,
        strftime(cast(date_trunc('month', day) as timestamp), '%Y-%m-%dT%H:%M:%SZ') as BillingPeriodStart,
        'Usage' as ChargeCategory,
        cast(null as varchar) as ChargeClass,
        model || ' tokens (' || service_tier || ' tier)' as ChargeDescription,
        'Usage-Based' as ChargeFrequency,
        strftime(cast(day + interval 1 day as timestamp), '%Y-%m-%dT%H:%M:%SZ') as ChargePeriodEnd,
        strftime(cast(day as timestamp), '%Y-%m-%dT%H:%M:%SZ') as ChargePeriodStart,
        cast(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as decimal(38, 1))
            as ConsumedQuantity,
        'Tokens' as ConsumedUnit,
        cast(coalesce(list_usd, spend_usd) as decimal(18, 6)) as ContractedCost,
        cast(spend_usd as decimal(18, 6)) as EffectiveCost,
        provider_name as InvoiceIssuerName,
        cast(coalesce(list_usd, spend_usd) as decimal(18, 6)) as ListCost,
        case when service_tier = 'standard' then 'Standard' else 'Other' end as PricingCategory,
        cast(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as decimal(38, 1))
            as PricingQuantity,
        'Tokens' as PricingUnit,
        provider_name as ProviderName,
        coalesce(model_publisher, provider_name) as PublisherName,
        'AI and Machine Learning' as ServiceCategory,
        service_name as ServiceName,
        'Generative AI' as ServiceSubcategory,
        model as SkuId,
        nullif(project, '') as SubAccountId,
        nullif(project, '') as SubAccountName,
        cast(json_object('team', team, 'workload', workload) as varchar) as Tags,
        team as x_Team,
        model as x_Model,
        service_tier as x_ServiceTier,
        requests as x_Requests,
        input_tokens as x_InputTokens,
        cache_read_tokens as x_CacheReadTokens,
        cache_write_tokens as x_CacheWriteTokens,
        output_tokens as x_OutputTokens
    from named
    order by ChargePeriodStart, ProviderName, BillingAccountId, SubAccountId, x_Team, SkuId, x_ServiceTier
)
select * from final
