-- gcp-cost-table: the Google Cloud console's Reports "Cost table" CSV -> canonical, Vertex AI / Gemini rows only.
-- Grain: one row per table row (project x SKU x credit type for the report period); only the SKU's token class
-- is set; credit rows (a `Credit type`, no usage amount, negative cost) are money only. Keyed on content.
-- Traps (docs/research.md "Google Cloud Billing export"): metadata lines before the header (skipped by the reader),
-- footer rows with `Cost type`
-- "Rounding error" / "Total" and no SKU (dropped), thousands separators in `Usage amount` ("12,450,000"), the
-- currency in the cost header (`Unrounded Cost ($)`): the unrounded column is used, found by its prefix; a
-- header in another currency symbol fails the file. Dates only: ts is the period start at 00:00 UTC.
-- Model, operation, tier and the token class are read from the SKU text by the macro gcp_sku_usage (migration
-- 023), shared by gcp-billing-export and gcp-cost-table.
with rows_json as (
    select *, to_json(s) as j
    from src as s
),
cost_column as (
    -- `Unrounded Cost ($)` (else `Cost ($)`): the one header that starts so
    select
        *,
        coalesce(list_filter(json_keys(j), lambda k: k ilike 'unrounded cost%')[1],
                 list_filter(json_keys(j), lambda k: k ilike 'cost (%')[1]) as cost_key
    from rows_json
),
ai_rows as (
    select
        *,
        lower(trim("SKU description")) as s,
        lower(trim(coalesce("Usage unit", ''))) as unit,
        case when cost_key not like '%($)'
            then error('the cost column is "' || cost_key || '", not in US dollars ($): download the cost table in USD')
        end as currency_error,
        j ->> cost_key as cost_txt,
        replace(trim("Usage amount"), ',', '') as amount_txt,
        nullif(trim("Credit type"), '') is not null as is_credit
    from cost_column
    where "Service description" in ('Vertex AI', 'Gemini API', 'Generative Language API')
       or lower("SKU description") like '%gemini%'
),
final as (
    select
        _row,
        null as _key,
        trim("Usage start date") || coalesce(currency_error, '') as ts,
        case date_diff('day', try_cast(trim("Usage start date") as date), try_cast(trim("Usage end date") as date))
            when 0 then 'day'
            else 'month'
        end as granularity,
        'google-vertex' as provider,
        model,
        trim("SKU description") as model_raw,
        "Billing account ID" as account,
        "Project ID" as project,
        null as api_key,
        null as user_id,
        null as team,
        null as workload,
        operation,
        service_tier,
        0 as requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        replace(cost_txt, ',', '') as cost_usd
    from gcp_sku_usage(ai_rows)
)
select * from final
