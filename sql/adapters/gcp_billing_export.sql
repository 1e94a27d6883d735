-- gcp-billing-export: BigQuery billing export rows flattened to CSV/Parquet -> canonical, Vertex AI / Gemini only.
-- Grain: one row per export row (usage window, usually an hour, x SKU x project x labels); only the SKU's token
-- class is set. No source id: keyed on content. Headers come dotted (`sku.description`) or underscored
-- (`sku_description`) depending on who flattened the table, so every field is read by name from the row as JSON.
-- Traps (docs/research.md "Google Cloud Billing export"): model, token class and tier only in the SKU text;
-- usage.amount in usage.unit (`count` =
-- tokens; hours/characters/requests are money only); net cost = cost + sum(credits.amount) (credits negative);
-- cost in `currency`: not USD -> cost / currency_conversion_rate (local currency per USD), else the file fails.
-- Model, operation, tier and the token class are read from the SKU text by the macro gcp_sku_usage (migration
-- 023), shared by gcp-billing-export and gcp-cost-table.
-- Labels (usage_raw.labels, migration 024; attribution rules `field: label:<name>`): every label of `labels`, the
-- repeated record or an object (macros json_object_pairs, label_map); `team` and `workload` also fill those columns.
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
    select *, lower(trim(sku)) as s, false as is_credit
    from fields
    where service in ('Vertex AI', 'Gemini API', 'Generative Language API')
       or lower(sku) like '%gemini%'
),
parsed as (
    select
        *,
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
    from gcp_sku_usage(parsed)
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
        model,
        trim(sku) as model_raw,
        billing_account as account,
        project_id as project,
        null as api_key,
        null as user_id,
        coalesce(list_filter(label_list, lambda l: l.key = 'team')[1].value, label_obj ->> 'team') as team,
        coalesce(list_filter(label_list, lambda l: l.key = 'workload')[1].value, label_obj ->> 'workload') as workload,
        label_map(coalesce(list_transform(label_list, lambda l: {'k': l.key, 'v': l.value}),
                           json_object_pairs(label_obj))) as labels,
        operation,
        service_tier,
        0 as requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        cost_usd_txt as cost_usd
    from money
)
select * from final
