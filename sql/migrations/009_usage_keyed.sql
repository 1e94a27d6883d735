-- 009: the ledger's natural key reaches the simulator. `usage_keyed` = the body of `usage` (002) plus `row_key`
-- (usage_raw's natural key); `usage` is it without `row_key` (still exactly the DESIGN.md columns), and
-- `usage_replay` (004) reads it, so the replay can join per-request grades of a shadow evaluation on the key.
-- `usage` and `usage_replay` derive from `usage_keyed` only: a team-restricted cursor shadows `usage_keyed`,
-- `usage` and `usage_daily` with filtered temp views (warehouse/db.py), and that filter reaches both.
-- Grain: one row per usage_raw row.

-- the natural key of a row whose source gives a request id (ingest/stage.py); the one place that says how
create or replace macro request_row_key(provider, request_id) as md5_number(provider || '|' || request_id);

create or replace view usage_keyed as
with resolved as (
    select
        u.*,
        coalesce(mm.catalog_model, u.model) as model_id,
        mm.catalog_provider,
        u.input_tokens + u.cache_read_tokens + u.cache_write_tokens as prompt_tokens
    from usage_raw as u
    left join model_map as mm on mm.provider = u.provider and mm.model = u.model
),
priced as (
    select
        r.*,
        -- the cliff tier applies per request only; buckets can't tell one request's prompt size
        (r.granularity = 'request' and c.tier_start is not null and r.prompt_tokens > c.tier_start) as in_tier,
        coalesce(o.discount_pct, 0) as discount_pct,
        o.input_mtok as o_input, o.output_mtok as o_output,
        o.cache_read_mtok as o_cache_read, o.cache_write_mtok as o_cache_write,
        c.input_mtok, c.output_mtok, c.cache_read_mtok, c.cache_write_mtok,
        c.tier_input_mtok, c.tier_output_mtok, c.tier_cache_read_mtok, c.tier_cache_write_mtok
    from resolved as r
    left join catalog_prices as c
        on c.catalog_provider = r.catalog_provider and c.model = r.model_id
        and r.ts >= c.valid_from and r.ts < c.valid_to
    left join price_overrides_effective as o
        on o.provider = r.provider and o.model = r.model_id
        and r.ts >= o.valid_from and r.ts < o.valid_to
),
rates as (
    select
        *,
        (1 - discount_pct / 100) as keep,
        coalesce(o_input, (case when in_tier then tier_input_mtok end), input_mtok) as p_in_raw,
        coalesce(o_output, (case when in_tier then tier_output_mtok end), output_mtok) as p_out_raw,
        -- a model without a cache price bills cached tokens at its input price (never at 0)
        coalesce(o_cache_read, (case when in_tier then tier_cache_read_mtok end), cache_read_mtok,
                 o_input, input_mtok) as p_cr_raw,
        coalesce(o_cache_write, (case when in_tier then tier_cache_write_mtok end), cache_write_mtok,
                 o_input, input_mtok) as p_cw_raw
    from priced
),
final as (
    select
        ts, granularity, provider,
        model_id as model,
        model_raw, account, project, api_key, user_id,
        coalesce(da.team, rates.team, 'unassigned') as team,
        coalesce(da.workload, rates.workload, 'general') as workload,
        operation, service_tier, requests,
        input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        cost_usd,
        case
            when p_in_raw is null then null
            -- a money-only line (an invoice or cost-report row) has no quantities to price: no list cost
            when prompt_tokens + output_tokens = 0 and cost_usd is not null then null
            when output_tokens > 0 and p_out_raw is null then null
            else cast(round(
                (input_tokens * p_in_raw + cache_read_tokens * p_cr_raw + cache_write_tokens * p_cw_raw
                 + output_tokens * coalesce(p_out_raw, 0)) / 1000000
                -- explicit override prices are already negotiated; the discount applies to catalog prices
                * (case when o_input is not null then 1 else keep end)
                -- batch tier: both OpenAI and Anthropic bill batch requests at 50% of list
                * (case when service_tier = 'batch' then 0.5 else 1 end), 6) as decimal(18, 6))
        end as list_cost_usd,
        source_format, ingest_id,
        row_key
    from rates
    left join dim_attribution as da on da.dim_key = rates.dim_key
)
select * from final;

create or replace view usage as
select * exclude (row_key)
from usage_keyed;

-- the usage rows the replay should see: per provider and day, only the most detailed source (as 004), with the key
create or replace view usage_replay as
select u.*
from usage_keyed as u
semi join source_choice as s
    on s.provider = u.provider and s.day = cast(u.ts as date) and s.source_format = u.source_format
    and s.in_replay;
