-- gcp-cost-table: the Google Cloud console's Reports "Cost table" CSV -> canonical, Vertex AI / Gemini rows only.
-- Grain: one row per table row (project x SKU x credit type for the report period); only the SKU's token class
-- is set; credit rows (a `Credit type`, no usage amount, negative cost) are money only. Keyed on content.
-- Traps (docs/research.md "Google Cloud Billing export"): metadata lines before the header (skipped by the reader),
-- footer rows with `Cost type`
-- "Rounding error" / "Total" and no SKU (dropped), thousands separators in `Usage amount` ("12,450,000"), the
-- currency in the cost header (`Unrounded Cost ($)`): the unrounded column is used, found by its prefix; a
-- header in another currency symbol fails the file. Dates only: ts is the period start at 00:00 UTC.
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
        replace(trim("Usage amount"), ',', '') as amount_txt
    from cost_column
    where "Service description" in ('Vertex AI', 'Gemini API', 'Generative Language API')
       or lower("SKU description") like '%gemini%'
),
parsed as (
    select
        *,
        regexp_extract(s, 'gemini[ -]?(\d+(?:\.\d+)?)[ -](pro|flash[ -]lite|flash|ultra|nano)', ['ver', 'fam'])
            as gemini,
        regexp_extract(s, 'claude[ -](\d(?:\.\d)?)[ -](sonnet|haiku|opus)', ['ver', 'fam']) as claude3,
        regexp_extract(s, 'claude[ -](sonnet|haiku|opus)[ -](\d(?:\.\d)?)', ['fam', 'ver']) as claude4,
        case
            when nullif(trim("Credit type"), '') is not null then null
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
        unit in ('count', 'token', 'tokens') as in_tokens
    from ai_rows
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
        case
            when gemini.fam <> '' then 'gemini-' || gemini.ver || '-' || replace(gemini.fam, ' ', '-')
            when claude3.fam <> '' then 'claude-' || replace(claude3.ver, '.', '-') || '-' || claude3.fam
            when claude4.fam <> '' then 'claude-' || claude4.fam || '-' || replace(claude4.ver, '.', '-')
            else s
        end as model,
        trim("SKU description") as model_raw,
        "Billing account ID" as account,
        "Project ID" as project,
        null as api_key,
        null as user_id,
        null as team,
        null as workload,
        case when s like '%embedding%' then 'embeddings'
             when s like '%imagen%' or s like '%image output%' then 'images'
             else 'chat' end as operation,
        tier as service_tier,
        0 as requests,
        case when token_class = 'input' and in_tokens then amount_txt else '0' end as input_tokens,
        case when token_class = 'cache_read' and in_tokens then amount_txt else '0' end as cache_read_tokens,
        0 as cache_write_tokens,
        case when token_class = 'output' and in_tokens then amount_txt else '0' end as output_tokens,
        case when token_class = 'output' and in_tokens and s like '%thinking%' then amount_txt else '0' end
            as reasoning_tokens,
        replace(cost_txt, ',', '') as cost_usd
    from parsed
)
select * from final
