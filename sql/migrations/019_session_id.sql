-- 019: a conversation id in the ledger (issue 13 §3: the simulator's `unit: session` and the cache a request loses
-- when it moves off its conversation's model). `usage_raw.session_id` (nullable) holds the session, trace or
-- conversation id a source logs: OpenTelemetry GenAI spans (gen_ai.conversation.id, else session.id), Langfuse
-- (session_id, else the trace id), Helicone (the Helicone-Session-Id property), LiteLLM spend logs (session_id,
-- else metadata.session_id), a canonical file's session_id column. Null for every source that logs none.
-- Not part of a row's content (`usage_content_hash`, migration 011, and the content key of id-less rows are
-- unchanged): it is metadata of the row, so reloading an older export that lacks it is not a restatement, and a
-- later export that carries it fills it in on rows loaded without it (writes/fill_session_ids.sql).
-- The views that expose ledger rows to the simulator are recreated with the column: `usage_keyed` (as 011, plus
-- session_id), and `usage`, `usage_replay` over it (as 009).

alter table usage_raw add column session_id varchar;

-- usage_keyed as in 011, plus session_id
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
            -- full precision (issue 12): a per-token price such as $1.5e-7 is not rounded per row
            else cast(
                (input_tokens * p_in_raw + cache_read_tokens * p_cr_raw + cache_write_tokens * p_cw_raw
                 + output_tokens * coalesce(p_out_raw, 0)) / 1000000
                -- explicit override prices are already negotiated; the discount applies to catalog prices
                * (case when o_input is not null then 1 else keep end)
                -- batch tier: both OpenAI and Anthropic bill batch requests at 50% of list
                * (case when service_tier = 'batch' then 0.5 else 1 end) as decimal(38, 12))
        end as list_cost_usd,
        source_format, ingest_id,
        session_id,
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
