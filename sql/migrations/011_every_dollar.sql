-- 011: every dollar accounted for (issue 12; docs/design.md "Dedupe and conservation").
-- 1. Money at full precision: usage_raw.cost_usd and the view's list_cost_usd are DECIMAL(38, 12) (rounding to 6
--    places per row, half up, added +$0.046 on 500 k LiteLLM rows and turned spends under $5e-7 into $0); pages,
--    CLI and statements round for display only.
-- 2. Conservation per file: `ingest_parts` holds each file's own totals as read and where they went (loaded,
--    already in the ledger, superseded by a later line of the same file, rejected); `ingest_replacements` holds
--    what a later load took out of the ledger (a later export of the same window, or a restated request id), so
--    sql/checks/assert_ingest_conservation.sql proves every dollar for every file loaded since this migration.
-- 3. Plausibility problems are warnings on kept rows (`ingest_warnings`), not rejections.
-- The rollup is derived: dropped, it is rebuilt at open with the new money type (as in 010).

alter table usage_raw alter cost_usd type decimal(38, 12);

alter table ingest_log add column rows_replaced bigint default 0;   -- earlier ledger rows this file replaced
alter table ingest_log add column rows_warned bigint default 0;     -- kept rows with a plausibility warning

-- one row per file and part; grain: ingest_id x part. part: file (every row as read) | loaded | already_loaded
-- (identical to a ledger row: same id, or an unchanged day of the same export) | superseded_in_file (a later
-- line of the same file has the same request id) | rejected. file = loaded + already_loaded + superseded_in_file
-- + rejected, measure by measure.
create table ingest_parts (
    ingest_id bigint not null,
    part varchar not null,
    rows bigint not null,
    requests hugeint,
    cost_usd decimal(38, 12),
    input_tokens hugeint,
    cache_read_tokens hugeint,
    cache_write_tokens hugeint,
    output_tokens hugeint,
    reasoning_tokens hugeint,
    primary key (ingest_id, part)
);

-- rows a load took out of the ledger; grain: ingest_id (the later load) x replaced_ingest_id x kind.
-- kind: window (a later export of the same source and scope covering those days) | restated (a request id
-- loaded again with changed values: the newest load wins)
create table ingest_replacements (
    ingest_id bigint not null,
    replaced_ingest_id bigint not null,
    kind varchar not null,
    day_from date,
    day_to date,
    days bigint,
    rows bigint not null,
    requests hugeint,
    cost_usd decimal(38, 12),
    input_tokens hugeint,
    cache_read_tokens hugeint,
    cache_write_tokens hugeint,
    output_tokens hugeint,
    reasoning_tokens hugeint
);

-- kept rows with something implausible about them: grain one row per (ingest, row, warning)
create table ingest_warnings (
    ingest_id bigint not null,
    row_number bigint,
    column_name varchar,
    value varchar,
    warning varchar not null
);

-- the content of a canonical row as one number: equal content, equal hash (the same request restated with
-- other values, or an unchanged day of a re-export, is told apart by it)
create or replace macro usage_content_hash(ts, granularity, provider, model, model_raw, account, project, api_key,
        user_id, team, workload, operation, service_tier, requests, input_tokens, cache_read_tokens,
        cache_write_tokens, output_tokens, reasoning_tokens, cost_usd) as
    md5_number(concat_ws('|', ts, granularity, provider, model, model_raw, coalesce(account, '~'),
        coalesce(project, '~'), coalesce(api_key, '~'), coalesce(user_id, '~'), coalesce(team, '~'),
        coalesce(workload, '~'), operation, service_tier, requests, input_tokens, cache_read_tokens,
        cache_write_tokens, output_tokens, reasoning_tokens, coalesce(cast(cost_usd as varchar), '~')));

-- the scope of a statement's row: a later export of the same format replaces what it overlaps only for the
-- scopes it holds: provider, account, project/workspace, operation (OpenAI's usage API answers one endpoint per
-- file: a completions page and an embeddings page of the same days are two statements, not a restatement)
create or replace macro usage_scope(provider, account, project, operation) as
    concat_ws('|', provider, coalesce(account, '~'), coalesce(project, '~'), operation);

-- usage_keyed as in 009, list cost at full precision
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
        row_key
    from rates
    left join dim_attribution as da on da.dim_key = rates.dim_key
)
select * from final;

drop table if exists usage_daily;

-- the end of a row's bucket: its start plus its grain (a request is a point in time; an unknown grain, kept as
-- written, likewise)
create or replace macro bucket_end(ts, granularity) as
    ts + case granularity
        when 'minute' then interval 1 minute
        when 'hour' then interval 1 hour
        when 'day' then interval 1 day
        when 'month' then interval 1 month
        else interval 0 second
    end;
