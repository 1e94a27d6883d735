-- gcp-billing-export: BigQuery billing export rows flattened to CSV/Parquet -> canonical, Vertex AI / Gemini only.
-- Grain: one row per export row (usage window, usually an hour, x SKU x project x labels); only the SKU's token
-- class is set. No source id: keyed on content. Headers come dotted (`sku.description`) or underscored
-- (`sku_description`) depending on who flattened the table, so every field is read by name from the row as JSON.
-- Traps (docs/research.md "Google Cloud Billing export"): model, token class and tier only in the SKU text;
-- usage.amount in usage.unit (`count` =
-- tokens; hours/characters/requests are money only); net cost = cost + sum(credits.amount) (credits negative);
-- cost in `currency`: not USD -> cost / currency_conversion_rate (local currency per USD), else the file fails.
with rows_json as (
    select _row, to_json(s) as j
    from src as s
),
fields as (
    select
        _row,
        coalesce(j ->> 'service.description', j ->> 'service_description') as service,
        coalesce(j ->> 'sku.description', j ->> 'sku_description') as sku,
        j ->> 'usage_start_time' as start_txt,
        j ->> 'usage_end_time' as end_txt,
        coalesce(j ->> 'usage.amount', j ->> 'usage_amount') as amount_txt,
        lower(trim(coalesce(j ->> 'usage.unit', j ->> 'usage_unit', ''))) as unit,
        j ->> 'cost' as cost_txt,
        upper(trim(coalesce(j ->> 'currency', 'USD'))) as currency,
        j ->> 'currency_conversion_rate' as rate_txt,
        coalesce(j ->> 'credits', j ->> 'credits.amount', j ->> 'credits_amount') as credits_txt,
        j ->> 'labels' as labels_txt,
        coalesce(j ->> 'project.id', j ->> 'project_id') as project_id,
        j ->> 'billing_account_id' as billing_account
    from rows_json
),
ai_rows as (
    select *, lower(trim(sku)) as s
    from fields
    where service in ('Vertex AI', 'Gemini API', 'Generative Language API')
       or lower(sku) like '%gemini%'
),
parsed as (
    select
        *,
        regexp_extract(s, 'gemini[ -]?(\d+(?:\.\d+)?)[ -](pro|flash[ -]lite|flash|ultra|nano)', ['ver', 'fam'])
            as gemini,
        regexp_extract(s, 'claude[ -](\d(?:\.\d)?)[ -](sonnet|haiku|opus)', ['ver', 'fam']) as claude3,
        regexp_extract(s, 'claude[ -](sonnet|haiku|opus)[ -](\d(?:\.\d)?)', ['fam', 'ver']) as claude4,
        case
            when regexp_matches(s, 'cach') and regexp_matches(s, 'storage') then null
            when regexp_matches(s, 'cach') then 'cache_read'
            when regexp_matches(s, 'output') then 'output'
            when regexp_matches(s, 'input') then 'input'
        end as token_class,
        case
            when regexp_matches(s, '\bbatch\b') then 'batch'
            when regexp_matches(s, '\bflex\b') then 'flex'
            when regexp_matches(s, '\bpriority\b') then 'priority'
            else 'standard'
        end as tier,
        unit in ('count', 'token', 'tokens') as in_tokens,
        -- credits: the repeated record as JSON ([{"name": ..., "amount": -1.2}, ...]) or one summed number
        case
            when credits_txt is null or trim(credits_txt) in ('', '[]') then 0
            when json_valid(credits_txt) and json_type(credits_txt) = 'ARRAY'
                then coalesce(list_sum(cast(json_extract(credits_txt, '$[*].amount') as double[])), 0)
            else try_cast(credits_txt as double)
        end as credits,
        -- labels: BigQuery's repeated record as JSON ([{"key": "team", "value": "..."}]) or a plain JSON object
        case when json_valid(labels_txt) and json_type(labels_txt) = 'ARRAY'
            then from_json(labels_txt, '[{"key": "VARCHAR", "value": "VARCHAR"}]') end as label_list,
        case when json_valid(labels_txt) and json_type(labels_txt) = 'OBJECT' then labels_txt end as label_obj
    from ai_rows
),
money as (
    select
        *,
        case
            when try_cast(cost_txt as double) is null or credits is null then cost_txt
            when currency = 'USD' then cast(cast(cost_txt as decimal(38, 12)) + cast(credits as decimal(38, 12)) as varchar)
            when try_cast(rate_txt as double) > 0
                then cast((cast(cost_txt as decimal(38, 12)) + cast(credits as decimal(38, 12)))
                          / cast(rate_txt as decimal(38, 12)) as varchar)
            else error('currency is ' || currency || ', not USD, and currency_conversion_rate is missing: '
                       || 'export the currency_conversion_rate column too')
        end as cost_usd_txt
    from parsed
),
final as (
    select
        _row,
        null as _key,
        start_txt as ts,
        case date_diff('second', try_cast(start_txt as timestamptz), try_cast(end_txt as timestamptz))
            when 3600 then 'hour'
            when 86400 then 'day'
            else 'month'
        end as granularity,
        'google-vertex' as provider,
        case
            when gemini.fam <> '' then 'gemini-' || gemini.ver || '-' || replace(gemini.fam, ' ', '-')
            when claude3.fam <> '' then 'claude-' || replace(claude3.ver, '.', '-') || '-' || claude3.fam
            when claude4.fam <> '' then 'claude-' || claude4.fam || '-' || replace(claude4.ver, '.', '-')
            else s
        end as model,
        trim(sku) as model_raw,
        billing_account as account,
        project_id as project,
        null as api_key,
        null as user_id,
        coalesce(list_filter(label_list, lambda l: l.key = 'team')[1].value, label_obj ->> 'team') as team,
        coalesce(list_filter(label_list, lambda l: l.key = 'workload')[1].value, label_obj ->> 'workload') as workload,
        case when s like '%embedding%' then 'embeddings'
             when s like '%imagen%' or s like '%image output%' then 'images'
             else 'chat' end as operation,
        tier as service_tier,
        0 as requests,
        case when token_class = 'input' and in_tokens then amount_txt else '0' end as input_tokens,
        case when token_class = 'cache_read' and in_tokens then amount_txt else '0' end as cache_read_tokens,
        0 as cache_write_tokens,
        case when token_class = 'output' and in_tokens then amount_txt else '0' end as output_tokens,
        -- Vertex bills thinking as its own output SKU: output tokens that are all reasoning
        case when token_class = 'output' and in_tokens and s like '%thinking%' then amount_txt else '0' end
            as reasoning_tokens,
        cost_usd_txt as cost_usd
    from money
)
select * from final
