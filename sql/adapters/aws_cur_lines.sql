-- aws-cur / aws-cur2 (shared): Bedrock line items of a Cost and Usage Report -> canonical.
-- Input: `cur`, one row per CUR line item with the columns aws_cur.sql / aws_cur2.sql rename to.
-- Grain: one canonical row per Bedrock line item (hour or day x usage type x resource x caller), with only the
-- line item's token class set. Traps (docs/research.md "AWS Cost and Usage Report"):
--   * Bedrock rows: product code AmazonBedrock / AmazonBedrockService, or a Marketplace usage type (`MP:`) whose
--     product name ends "(Amazon Bedrock Edition)". Other services are skipped, as are Tax / Fee / RIFee / Savings
--     Plan fee and negation rows; Credit and Refund rows load as money only (tokens 0, requests 0).
--   * The usage type carries region, model, token class and tier: `USE1-Claude4Sonnet-cache-read-input-token-count
--     -cross-region-global`, `USW2-anthropic.claude-opus-4-8-mantle-output-tokens-batch`,
--     `USE1-MP:USE1_CacheWriteInputTokenCount_Global-Units` (the model is then only in the product name).
--   * usage amount is in the row's pricing unit: `1K tokens` x 1 000, `1M tokens` x 1 000 000; `Units` means
--     tokens unless the line item description prices "per 1K"/"per million" tokens.
--   * times are UTC with Z; the cost is USD for nearly every account; another currency fails the file below.
with lines as (
    select
        *,
        trim(usage_type) as ut,
        lower(trim(usage_type)) as ut_l,
        trim(regexp_replace(coalesce(product_name, ''), '\s*\(Amazon Bedrock Edition\)\s*$', '', 'i'))
            as mp_model_name
    from cur
    where (product_code in ('AmazonBedrock', 'AmazonBedrockService')
           or (usage_type like '%MP:%' and product_name ilike '%Amazon Bedrock%'))
      and line_item_type in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'Credit', 'Refund')
),
currency_checked as (
    select
        *,
        case when coalesce(nullif(trim(currency), ''), 'USD') <> 'USD'
            then error('lineItem/CurrencyCode (line_item_currency_code) is ' || trim(currency)
                       || ', not USD, and a CUR gives no exchange rate: export the report in USD')
        end as currency_error
    from lines
),
parsed as (
    select
        *,
        -- token class from the end of the usage type, cache classes before plain input
        case
            when regexp_matches(ut_l, 'cache-?read|cachereadinput') then 'cache_read'
            when regexp_matches(ut_l, 'cache-?write|cachewriteinput') then 'cache_write'
            when regexp_matches(ut_l, 'output-?token|outputtoken|output_tokens') then 'output'
            when regexp_matches(ut_l, 'input-?token|inputtoken|input_tokens') then 'input'
        end as token_class,
        case
            when regexp_matches(ut_l, '[-_]batch') then 'batch'
            when regexp_matches(ut_l, '[-_]priority') then 'priority'
            when regexp_matches(ut_l, '[-_]flex') then 'flex'
            else 'standard'
        end as tier,
        -- the model part: region prefix off, token-class suffix (and everything after it) off
        regexp_replace(regexp_replace(ut, '^[A-Z]{2,4}[0-9]-', ''),
            '-(mantle-)?(cache-read-input|cache-write-input|cache-read|cache-write|input|output)-token.*$', '', 'i') as model_part,
        case
            when lower(trim(pricing_unit)) in ('1k tokens', '1k', '1000 tokens') then 1000
            when lower(trim(pricing_unit)) in ('1m tokens', '1m', '1000000 tokens') then 1000000
            when lower(trim(pricing_unit)) = 'units' and regexp_matches(lower(description), 'per (1k|1,000|thousand)')
                then 1000
            when lower(trim(pricing_unit)) = 'units' and regexp_matches(lower(description), 'per (1m|1,000,000|million)')
                then 1000000
            else 1
        end as unit_factor
    from currency_checked
),
named as (
    select
        *,
        regexp_extract(model_part, '^claude(\d+(?:\.\d+)?)(sonnet|haiku|opus)$', ['ver', 'fam'], 'i') as claude,
        regexp_extract(model_part, '^nova(\d+)?(?:\.\d+)?(lite|pro|micro|premier)$', ['ver', 'fam'], 'i') as nova,
        regexp_extract(model_part, '^llama(\d+)-(maverick|scout)-(\d+b)$', ['ver', 'fam', 'size'], 'i') as llama
    from parsed
),
models as (
    select
        *,
        case
            when ut like '%MP:%' and mp_model_name <> ''
                then replace(replace(lower(mp_model_name), '.', '-'), ' ', '-')
            -- Claude 4 and later put the family first (claude-sonnet-4-5), Claude 3.x the version (claude-3-5-sonnet)
            when claude.fam <> '' and cast(split_part(claude.ver, '.', 1) as int) >= 4
                then 'claude-' || lower(claude.fam) || '-' || replace(claude.ver, '.', '-')
            when claude.fam <> '' then 'claude-' || replace(claude.ver, '.', '-') || '-' || lower(claude.fam)
            when nova.fam <> '' and coalesce(nullif(nova.ver, ''), '1') <> '1'
                then 'regional.amazon.nova-' || nova.ver || '-' || lower(nova.fam) || '-v1:0'
            when nova.fam <> '' then 'amazon.nova-' || lower(nova.fam) || '-v1:0'
            when llama.fam <> ''
                then 'meta.llama' || llama.ver || '-' || lower(llama.fam) || '-' || lower(llama.size) || '-instruct-v1:0'
            else lower(model_part)
        end as model_id,
        -- raw tokens as text; an amount that is not a number reaches the framework's check as written
        coalesce(cast(round(try_cast(usage_amount as double) * unit_factor) as varchar), nullif(trim(usage_amount), ''))
            as tokens,
        line_item_type in ('Credit', 'Refund') as money_only
    from named
),
final as (
    select
        _row,
        -- the report's own line item id; one id repeats per caller when IAM principal data is on
        case when nullif(trim(line_item_id), '') is not null
            then concat_ws('|', 'cur', line_item_id, usage_start, ut, coalesce(principal, ''), line_item_type)
        end as _key,
        -- referencing currency_error makes a non-USD file fail as a whole, with its message
        usage_start || coalesce(currency_error, '') as ts,
        case date_diff('second', try_cast(usage_start as timestamptz), try_cast(usage_end as timestamptz))
            when 3600 then 'hour'
            when 86400 then 'day'
            else 'month'
        end as granularity,
        'aws-bedrock' as provider,
        model_id as model,
        ut as model_raw,
        account_id as account,
        coalesce(project_tag, nullif(trim(resource_id), '')) as project,
        null as api_key,
        principal as user_id,
        team_tag as team,
        workload_tag as workload,
        case when token_class is null and ut_l like '%image%' then 'images'
             when token_class is null then 'other'
             when ut_l like '%embed%' then 'embeddings' else 'chat' end as operation,
        tier as service_tier,
        0 as requests,
        case when token_class = 'input' and not money_only then tokens else '0' end as input_tokens,
        case when token_class = 'cache_read' and not money_only then tokens else '0' end as cache_read_tokens,
        case when token_class = 'cache_write' and not money_only then tokens else '0' end as cache_write_tokens,
        case when token_class = 'output' and not money_only then tokens else '0' end as output_tokens,
        0 as reasoning_tokens,
        cost as cost_usd
    from models
)
select * from final
