-- anthropic-cost-api: Anthropic Admin API cost report pages (GET /v1/organizations/cost_report) -> canonical
-- money-only rows. Grain: one row per result, i.e. per daily bucket x group-by combination (workspace,
-- description = model x token type x tier x context window ...). Empty buckets yield no rows.
-- Traps (docs/research.md "Anthropic Admin API cost report"): `amount` is a STRING in the lowest currency unit,
-- CENTS, with decimals ("123.78912"
-- = $1.2378912): converted here, once, by x 0.01 in DECIMAL; RFC 3339 times; `model` is null unless grouped by
-- description, then it is parsed from the display name in `description` ("Claude Sonnet 4 Usage - Input
-- Tokens" -> claude-sonnet-4). Priority Tier costs are not in this endpoint. Cost rows are not requests and
-- carry no tokens (the report has none): requests and tokens are 0.
-- Pages are unnested by the macro anthropic_report_results, the tier mapped by anthropic_api_tier
-- (sql/migrations/023_shared_macros_2.sql).
with fields as (
    select
        _row,
        start_txt,
        start_at,
        width_s,
        json_extract_string(to_json(result), [
            '$.amount',             -- 1
            '$.currency',           -- 2
            '$.description',        -- 3
            '$.cost_type',          -- 4
            '$.token_type',         -- 5
            '$.model',              -- 6
            '$.service_tier',       -- 7
            '$.context_window',     -- 8
            '$.inference_geo',      -- 9
            '$.workspace_id',       -- 10
            '$.speed'               -- 11
        ]) as f
    from anthropic_report_results(src)
),
typed as (
    select
        _row,
        start_txt,
        start_at,
        width_s,
        nullif(trim(f[1]), '') as amount_txt,
        upper(nullif(trim(f[2]), '')) as currency,
        f[3] as description,
        lower(f[4]) as cost_type,
        f[5] as token_type,
        f[6] as model_txt,
        -- "Claude Sonnet 4 Usage - Input Tokens" -> "claude-sonnet-4"
        nullif(claude_model_id(trim(regexp_extract(f[3], '^(Claude .+?) Usage\b', 1))), '') as model_from_description,
        lower(f[7]) as tier_raw,
        f[8] as context_window,
        f[9] as inference_geo,
        f[10] as workspace_id,
        f[11] as speed
    from fields
),
final as (
    select
        _row,
        concat_ws('|', 'anthropic-cost', epoch(start_at), width_s, coalesce(workspace_id, ''),
                  coalesce(description, ''), coalesce(cost_type, ''), coalesce(token_type, ''),
                  coalesce(model_txt, ''), coalesce(tier_raw, ''), coalesce(context_window, ''),
                  coalesce(inference_geo, ''), coalesce(speed, '')) as _key,
        start_txt as ts,
        bucket_granularity(width_s, 'no ending_at') as granularity,
        'anthropic' as provider,
        coalesce(model_txt, model_from_description, 'unknown') as model,
        coalesce(model_txt, regexp_extract(description, '^(Claude .+?) Usage\b', 1)) as model_raw,
        null as account,
        workspace_id as project,
        null as api_key,
        null as user_id,
        null as team,
        null as workload,
        case when cost_type is null or cost_type = 'tokens' then 'chat' else 'other' end as operation,
        anthropic_api_tier(tier_raw) as service_tier,
        0 as requests,
        0 as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        0 as output_tokens,
        0 as reasoning_tokens,
        -- cents -> dollars, in DECIMAL; another currency stays visibly unconvertible and the row is set aside
        case
            when currency is not null and currency <> 'USD' then amount_txt || ' ' || currency
            when try_cast(amount_txt as decimal(38, 10)) is null then amount_txt
            else cast(cast(amount_txt as decimal(38, 10)) * cast(0.01 as decimal(3, 2)) as varchar)
        end as cost_usd
    from typed
)
select * from final
