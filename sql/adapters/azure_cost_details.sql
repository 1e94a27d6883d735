-- azure-cost-details: Azure Cost Management cost details (EA or MCA) -> canonical, Azure OpenAI rows only.
-- Grain: one row per cost line (day x meter x resource x tags); only the meter's token class is set. No source id:
-- rows are keyed on content. Column names are matched case-insensitively by DuckDB (MeterName = meterName).
-- Header spellings (EA, MCA, EA portal, legacy `PreTaxCost`/`Cost`) are renamed to these names on read
-- (ingest/formats/azure_cost_details.py ALIASES). Traps (docs/research.md "Azure cost details"): meter spelling
-- varies (`gpt-4o-mini-0718-Inp-glbl Tokens`, `GPT 5 Inpt Glbl`,
-- `gpt 4o 1120 cached Inp glbl`); `1K` / `1M` units per row; `MM/DD/YYYY` or ISO dates; tags JSON sometimes
-- without its braces; cost in the billing currency: USD as is, else `costInUsd`, else `costInPricingCurrency`
-- when the pricing currency is USD, else cost / `exchangeRatePricingToBilling`; with none of them the file fails.
with ai_rows as (
    select
        *,
        coalesce(nullif(trim(billingCurrency), ''), nullif(trim(billingCurrencyCode), ''), 'USD') as currency,
        -- one spelling: lower case, words joined by '-', the trailing "tokens" off
        regexp_replace(regexp_replace(lower(trim(meterName)), '[\s_]+', '-', 'g'), '-tokens?$', '') as meter
    from src
    where (regexp_matches(lower(meterCategory), 'cognitive services|foundry models|openai')
           and (meterSubCategory ilike '%openai%' or meterCategory ilike '%foundry%' or meterName ilike '%token%'))
       -- an older usage-details file without a meter category: the Cognitive Services token meters
       or (nullif(trim(meterCategory), '') is null
           and (consumedService ilike '%cognitiveservices%' or meterName ilike '%token%'))
),
parsed as (
    select
        *,
        case
            when regexp_matches(meter, '(^|-)(cached|cache|cchd)(-|$)') then 'cache_read'
            when regexp_matches(meter, '(^|-)(outp|outpt|output|out)(-|$)') then 'output'
            else 'input'
        end as token_class,
        case when regexp_matches(meter, '(^|-)batch(-|$)') then 'batch' else 'standard' end as tier,
        -- the model: what comes before the optional 4-digit version and the first class/tier/modality word
        coalesce(nullif(regexp_extract(meter,
            '^(.*?)(-\d{4})?-(cached|cache|cchd|inp|inpt|input|outp|outpt|output|batch|ptu|aud|audio|txt|text|img)(-|$)',
            1), ''), meter) as model_part,
        case
            when regexp_matches(lower(trim(unitOfMeasure)), '^1\s*k') then 1000
            when regexp_matches(lower(trim(unitOfMeasure)), '^1\s*m') then 1000000
            when regexp_matches(lower(trim(unitOfMeasure)), '^(1\s*)?tokens?$') then 1
        end as unit_factor,
        case
            when currency = 'USD' then costInBillingCurrency
            when nullif(trim(costInUsd), '') is not null then costInUsd
            when upper(trim(pricingCurrency)) = 'USD' and nullif(trim(costInPricingCurrency), '') is not null
                then costInPricingCurrency
            when try_cast(exchangeRatePricingToBilling as double) > 0
                 and coalesce(upper(trim(pricingCurrency)), 'USD') = 'USD'
                then cast(try_cast(costInBillingCurrency as decimal(38, 12))
                          / try_cast(exchangeRatePricingToBilling as decimal(38, 12)) as varchar)
            else error('billingCurrency is ' || currency || ', not USD, and the file gives no rate: '
                       || 'export with costInUsd, or costInPricingCurrency / exchangeRatePricingToBilling')
        end as cost_text,
        case when json_valid(tags) then tags when json_valid('{' || tags || '}') then '{' || tags || '}' end as tags_json,
        coalesce(ResourceId, InstanceId) as resource
    from ai_rows
),
final as (
    select
        _row,
        null as _key,
        cast(coalesce(try_strptime(trim(date), '%m/%d/%Y'), try_cast(trim(date) as timestamp)) as varchar)
            as _ts,
        coalesce(_ts, date) as ts,
        'day' as granularity,
        'azure-openai' as provider,
        -- `gpt-4-8k` / `-32k` context variants price as their model
        regexp_replace(model_part, '-(8k|32k|128k)$', '') as model,
        trim(meterName) as model_raw,
        coalesce(nullif(trim(subscriptionName), ''), nullif(trim(SubscriptionId), '')) as account,
        coalesce(tags_json ->> 'project', nullif(regexp_extract(resource, '/accounts/([^/]+)', 1), ''),
                 nullif(trim(resourceGroupName), ''), nullif(trim(ResourceGroup), '')) as project,
        null as api_key,
        null as user_id,
        tags_json ->> 'team' as team,
        tags_json ->> 'workload' as workload,
        case
            when meter like '%embedding%' then 'embeddings'
            when regexp_matches(meter, 'transcribe|tts|whisper|(^|-)aud(io)?(-|$)|realtime') then 'audio'
            when regexp_matches(meter, 'dall-?e|image|(^|-)img(-|$)') then 'images'
            else 'chat'
        end as operation,
        tier as service_tier,
        0 as requests,
        -- quantity in thousands or millions of tokens -> tokens; a meter in another unit (PTU hours) is money only
        coalesce(cast(round(try_cast(quantity as double) * unit_factor) as varchar),
                 case when unit_factor is not null then nullif(trim(quantity), '') end, '0') as tokens,
        case when token_class = 'input' then tokens else '0' end as input_tokens,
        case when token_class = 'cache_read' then tokens else '0' end as cache_read_tokens,
        0 as cache_write_tokens,
        case when token_class = 'output' then tokens else '0' end as output_tokens,
        0 as reasoning_tokens,
        cost_text as cost_usd
    from parsed
)
select * exclude (_ts, tokens) from final
