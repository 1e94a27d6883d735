-- 024: labels, the key/value metadata a source attaches to usage (issue 16: "resource attributes usable in
-- attribution rules"), and attribution rules on them (`field: label:<name>`).
-- `usage_raw.labels` (MAP(VARCHAR, VARCHAR), nullable, keys in sorted order so equal label sets are equal values)
-- holds: OpenTelemetry GenAI spans' resource, scope and span attributes (adapters/otel_genai_spans says which),
-- FOCUS `Tags` and the Google Cloud billing export's `labels`. Null for every source that carries none.
-- Like session_id (019) it is metadata of the row, not its content: `usage_content_hash` (011) and the content key
-- of id-less rows are unchanged, so reloading an export that lacks labels is not a restatement, and a later export
-- of the same requests that carries them fills them in (writes/fill_labels.sql).
-- A row's dimension set (usage_raw.dim_key, the key of dim_attribution) now includes its labels:
-- hash(account, project, api_key, user_id, provider, model, team, workload, labels); DuckDB's hash of a null
-- trailing argument equals the hash without it, so the keys of rows loaded before (labels null) stay valid.
-- Recreated with the column: `usage_keyed` (as 019, plus labels), and `usage`, `usage_replay` over it (as 019);
-- the rollup `usage_daily` gains it through writes/usage_daily_rows.sql: the table is dropped here and
-- warehouse/db.py builds it again right after the migrations (as 017 did). `attribution_rules.field` accepts `label:<name>` (the table is recreated: DuckDB
-- cannot drop a check constraint), and the macro `attribution_rule_hits` (023) takes the row's labels.
-- Grain: none (schema and definitions).

alter table usage_raw add column labels map(varchar, varchar);
drop table if exists usage_daily;

-- A label set from (k, v) pairs (varchar): keys and values trimmed, a pair with a blank key or value or a value
-- over 256 characters dropped (a label is a dimension, not content), the first value of a repeated key kept, keys
-- sorted (so one set is one value whatever order the source wrote it in); null when nothing is left.
-- Callers: adapters/otel_genai_spans, focus, gcp_billing_export.
create or replace macro label_pairs(pairs) as
    list_transform(
        list_filter(pairs, lambda p: nullif(trim(p.k), '') is not null and nullif(trim(p.v), '') is not null
                                     and length(trim(p.v)) <= 256),
        lambda p: {'k': trim(p.k), 'v': trim(p.v)});

create or replace macro label_map(pairs) as
    case
        when len(label_pairs(pairs)) = 0 then null
        -- the usual case, every key once (OTel attributes grouped by key, a JSON object): sorted as they are
        when len(list_distinct(list_transform(label_pairs(pairs), lambda p: p.k))) = len(label_pairs(pairs))
            then map_from_entries(list_sort(label_pairs(pairs)))
        -- a repeated key (a GCP label list written twice): its first value; this lambda over the list's own keys
        -- costs ~100 us a row, so it runs only for such rows (~17 us a row above, 15 pairs, measured)
        else map_from_entries(list_sort(list_filter(label_pairs(pairs),
            lambda p, i: list_position(list_transform(label_pairs(pairs), lambda q: q.k), p.k) = i)))
    end;

-- A JSON object's members as (k, v) pairs for label_map: a scalar as its text, an object or array as its JSON
-- text; text that is not a JSON object (or repeats a key): no pairs. FOCUS `Tags`, a GCP `labels` object.
create or replace macro json_object_pairs(txt) as
    case when json_valid(txt) and json_type(txt) = 'OBJECT' then
        coalesce(list_transform(map_entries(try_cast(try_cast(txt as json) as map(varchar, varchar))),
                                lambda e: {'k': e.key, 'v': e.value}), [])
    else [] end;

-- Whether an attribution rule (its `field` and case-insensitive glob `pattern`) matches a dimension set: the
-- value of the named field, lower-cased, globbed against the pattern; `label:<name>` reads the label of that name
-- (the name matched ignoring case); an unknown field, or a label the row does not carry, matches nothing.
-- Callers: writes/apply_attribution, queries/attribution_rule_matches, attribution_coverage.
create or replace macro attribution_rule_hits(field, pattern, account, project, api_key, user_id, provider, model,
                                              labels) as
    lower(case
        when field like 'label:%'
            then list_filter(map_entries(labels), lambda e: lower(e.key) = lower(substr(field, 7)))[1].value
        when field = 'project' then project
        when field = 'api_key' then api_key
        when field = 'user_id' then user_id
        when field = 'model' then model
        when field = 'account' then account
        when field = 'provider' then provider
    end) glob lower(pattern);

-- attribution_rules as in 001, its field check accepting label:<name>
create table attribution_rules_024 (
    rule_id bigint primary key default nextval('rule_id_seq'),
    priority integer not null default 100,
    field varchar not null check (field in ('project', 'api_key', 'user_id', 'model', 'account', 'provider')
                                  or (field like 'label:%' and length(trim(substr(field, 7))) > 0)),
    pattern varchar not null,      -- glob, case-insensitive: 'support-*'
    team varchar,
    workload varchar,
    note varchar
);
insert into attribution_rules_024 select rule_id, priority, field, pattern, team, workload, note from attribution_rules;
drop table attribution_rules;
alter table attribution_rules_024 rename to attribution_rules;

-- usage_keyed as in 019, plus labels
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
        labels,
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
