-- 023: more SQL that several query and adapter files need, written once as DuckDB macros (issue 17: no copied
-- SQL blocks outside migrations; 018 began it). A macro is expanded where it is called, so a query plans as if
-- the text were written there; a change to one is a later migration with `create or replace macro`. Callers:
--   usage_grouped: queries/explore_breakdown, explore_trend, explore_rows
--   attribution_rule_hits: writes/apply_attribution, queries/attribution_rule_matches, attribution_coverage
--   openai_cost_rows: adapters/openai_cost_csv, openai_costs_api
--   gcp_sku_usage: adapters/gcp_billing_export, gcp_cost_table
--   output_with_reasoning: adapters/openrouter_activity_csv, openrouter_generations_csv
--   anthropic_report_results, anthropic_api_tier: adapters/anthropic_usage_api, anthropic_cost_api
--   claude_console_tier: adapters/anthropic_console_usage_csv, anthropic_console_cost_csv
--   claude_model_id: the two Console adapters and adapters/anthropic_cost_api
--   openai_usage_tier, openai_uncached_input: adapters/openai_usage_api, openai_usage_csv
--   top_groups_by_period: queries/explore_trend, spend_by_model_over_time
-- A macro that reads spend takes its rows as an argument (a relation name: a CTE of the caller) and never names
-- `usage` or `usage_daily`, so on a team-restricted cursor it reads the caller's filtered temp view (migration
-- 022 says why; tests/warehouse/test_access.py checks it).
-- Grain: none (definitions only).

-- The Explore queries' filter and group (macros usage_filter_keeps, usage_dimension of 018): `rows` names a
-- relation with the nine dimension columns; the rows the filters keep, every column passing through, plus
-- `group_value`, the value of the chosen dimension ('(none)' when missing).
create or replace macro usage_grouped(rows, filters, dimension) as table
with final as (
    select
        *,
        usage_dimension(dimension, provider, model, team, project, api_key, user_id, workload, operation,
                        service_tier) as group_value
    from query_table(rows)
    where usage_filter_keeps(filters, provider, model, team, project, api_key, user_id, workload, operation,
                             service_tier)
)
select * from final;

-- Whether an attribution rule (its `field` and case-insensitive glob `pattern`) matches a dimension set: the
-- value of the named field, lower-cased, globbed against the pattern; an unknown field matches nothing.
create or replace macro attribution_rule_hits(field, pattern, account, project, api_key, user_id, provider, model) as
    lower(case field
        when 'project' then project
        when 'api_key' then api_key
        when 'user_id' then user_id
        when 'model' then model
        when 'account' then account
        when 'provider' then provider
    end) glob lower(pattern);

-- OpenAI cost rows (the Costs API's results and the dashboard Cost export's rows) as canonical money-only rows.
-- `cells` names a relation with `_row`, `start_s`, `end_s` (the bucket, Unix seconds), `ts_txt` (the start as
-- written, used when start_s is unreadable), `account`, `amount_txt`, `currency` (lower case), `line_item`,
-- `project_id`, `api_key_id`, `user_id` and `api_source`. Line items are classified by openai_cost_line_items
-- (018). The natural key is the bucket and every group-by value, the same for both sources, so the API pages
-- and the export of one bucket load once. Cost rows are not requests and carry no tokens: all are 0.
create or replace macro openai_cost_rows(cells) as table
with final as (
    select
        _row,
        concat_ws('|', 'cost', start_s, end_s - start_s, coalesce(line_item, ''), coalesce(project_id, ''),
                  coalesce(api_key_id, ''), coalesce(user_id, ''), coalesce(api_source, '')) as _key,
        case when start_s is not null then cast(make_timestamp(start_s * 1000000) as varchar) else ts_txt end as ts,
        bucket_granularity(end_s - start_s, 'no end_time') as granularity,
        'openai' as provider,
        item_model as model,
        item_model_raw as model_raw,
        account,
        project_id as project,
        api_key_id as api_key,
        user_id,
        null as team,
        null as workload,
        item_operation as operation,
        item_service_tier as service_tier,
        0 as requests,
        0 as input_tokens,
        0 as cache_read_tokens,
        0 as cache_write_tokens,
        0 as output_tokens,
        0 as reasoning_tokens,
        -- dollars as given; another currency is left visibly unconvertible so the row is set aside, not summed
        case when currency is null or currency = 'usd' then amount_txt else amount_txt || ' ' || currency end
            as cost_usd
    from openai_cost_line_items(cells)
)
select * from final;

-- Google Cloud billing SKUs (the BigQuery billing export's and the console cost table's rows): what the SKU text
-- says. `rows` names a relation with `s` (the SKU description, trimmed, lower case), `unit` (the usage unit, lower
-- case), `amount_txt` (the usage amount as text) and `is_credit` (a credit row: money only); every column passes
-- through and these are added: `model` (a catalog id for Gemini and Claude SKUs, else the SKU text),
-- `operation`, `service_tier`, and the token columns `input_tokens`, `cache_read_tokens`, `cache_write_tokens`,
-- `output_tokens`, `reasoning_tokens`: the usage amount in the SKU's one token class when the unit counts tokens,
-- else '0' (hours, characters and requests are money only; cache storage is not a token class). Vertex bills
-- thinking as its own output SKU: output tokens that are all reasoning.
create or replace macro gcp_sku_usage(rows) as table
with parsed as (
    select
        *,
        regexp_extract(s, 'gemini[ -]?(\d+(?:\.\d+)?)[ -](pro|flash[ -]lite|flash|ultra|nano)', ['ver', 'fam'])
            as gemini,
        regexp_extract(s, 'claude[ -](\d(?:\.\d)?)[ -](sonnet|haiku|opus)', ['ver', 'fam']) as claude3,
        regexp_extract(s, 'claude[ -](sonnet|haiku|opus)[ -](\d(?:\.\d)?)', ['fam', 'ver']) as claude4,
        case
            when is_credit then null
            when regexp_matches(s, 'cach') and regexp_matches(s, 'storage') then null
            when regexp_matches(s, 'cach') then 'cache_read'
            when regexp_matches(s, 'output') then 'output'
            when regexp_matches(s, 'input') then 'input'
        end as token_class,
        unit in ('count', 'token', 'tokens') as in_tokens
    from query_table(rows)
),
final as (
    select
        * exclude (gemini, claude3, claude4, token_class, in_tokens),
        case
            when gemini.fam <> '' then 'gemini-' || gemini.ver || '-' || replace(gemini.fam, ' ', '-')
            when claude3.fam <> '' then 'claude-' || replace(claude3.ver, '.', '-') || '-' || claude3.fam
            when claude4.fam <> '' then 'claude-' || claude4.fam || '-' || replace(claude4.ver, '.', '-')
            else s
        end as model,
        case when s like '%embedding%' then 'embeddings'
             when s like '%imagen%' or s like '%image output%' then 'images'
             else 'chat' end as operation,
        case
            when regexp_matches(s, '\bbatch\b') then 'batch'
            when regexp_matches(s, '\bflex\b') then 'flex'
            when regexp_matches(s, '\bpriority\b') then 'priority'
            else 'standard'
        end as service_tier,
        case when token_class = 'input' and in_tokens then amount_txt else '0' end as input_tokens,
        case when token_class = 'cache_read' and in_tokens then amount_txt else '0' end as cache_read_tokens,
        0 as cache_write_tokens,
        case when token_class = 'output' and in_tokens then amount_txt else '0' end as output_tokens,
        case when token_class = 'output' and in_tokens and s like '%thinking%' then amount_txt else '0' end
            as reasoning_tokens
    from parsed
)
select * from final;

-- Output tokens where thinking may be reported apart from the completion (OpenRouter's native counts of some
-- providers: reasoning above the completion): the two added, since thinking is billed as output; otherwise the
-- completion already includes it and stands as written. Both are text (a bad cell reaches the checks as text).
create or replace macro output_with_reasoning(completion_txt, reasoning_txt) as
    case when try_cast(reasoning_txt as double) > try_cast(completion_txt as double)
         then cast(try_cast(completion_txt as double) + try_cast(reasoning_txt as double) as varchar)
         else completion_txt end;

-- Anthropic's Admin API report results (usage and cost reports): the pages unnested by api_page_results (018) at
-- starting_at/ending_at; one row per result with `_row`, `start_txt` (the bucket start as written),
-- `start_at` (as a timestamp), `width_s` (the bucket width in seconds) and `result`.
create or replace macro anthropic_report_results(pages) as table
with final as (
    select
        _row,
        t[1] as start_txt,
        try_cast(t[1] as timestamptz) as start_at,
        cast(epoch(try_cast(t[2] as timestamptz)) - epoch(try_cast(t[1] as timestamptz)) as bigint) as width_s,
        result
    from api_page_results(pages, '$.starting_at', '$.ending_at')
)
select * from final;

-- The Admin API's service tier, lower case, as canonical: missing = standard, priority_on_demand = priority,
-- flex_discount = flex; any other value passes through (the checks name one that is not a tier).
create or replace macro anthropic_api_tier(tier_raw) as
    case
        when tier_raw is null then 'standard'
        when tier_raw = 'priority_on_demand' then 'priority'
        when tier_raw = 'flex_discount' then 'flex'
        else tier_raw
    end;

-- The Claude Console exports' usage type, lower case, as a canonical tier: batch, priority, flex as they are,
-- priority_on_demand = priority, anything else (standard, blank) standard.
create or replace macro claude_console_tier(usage_type) as
    case
        when usage_type in ('batch', 'priority', 'flex') then usage_type
        when usage_type = 'priority_on_demand' then 'priority'
        else 'standard'
    end;

-- A Claude display name as the catalog id: lower case, a trailing date to YYYYMMDD, spaces and dots to '-'
-- ("Claude 3.5 Sonnet 2024-10-22" -> claude-3-5-sonnet-20241022). The Console exports and the cost report.
create or replace macro claude_model_id(display) as
    regexp_replace(regexp_replace(lower(display), ' (\d{4})-(\d{2})-(\d{2})$', '-\1\2\3'), '[ .]+', '-', 'g');

-- OpenAI usage (the Usage API's results and the dashboard's usage CSV): the canonical tier from the batch flag
-- (a boolean the caller reads from its own cells) and service_tier (lower case): default/auto/standard or none
-- = standard; Scale Tier (reserved capacity units) is the predecessor of priority processing; any other value
-- passes through (the checks name one that is not a tier).
create or replace macro openai_usage_tier(is_batch, tier_raw) as
    case
        when is_batch then 'batch'
        when tier_raw is null or tier_raw in ('default', 'auto', 'standard') then 'standard'
        when tier_raw = 'scale' then 'priority'
        else tier_raw
    end;

-- OpenAI's input_tokens include the cached reads and cache writes; the canonical input is the uncached rest
-- (text in, a number out: a bad cell reaches the checks through the raw column).
create or replace macro openai_uncached_input(input_raw, cached_raw, cache_write_raw) as
    try_cast(input_raw as double)
        - coalesce(try_cast(cached_raw as double), 0)
        - coalesce(try_cast(cache_write_raw as double), 0);

-- Spend per time bucket per group with the top groups named: `rows` names a relation of usage_daily rows with a
-- `group_value` column; the `top_n` groups by spend over all the rows keep their value (ranked by spend, then
-- value), the rest are summed as 'other' (rank top_n + 1). One row per bucket (date_trunc(`bucket`, day): 'day',
-- 'week' from Monday, 'month' from the 1st) per label: `period`, `group_value`, `spend_rank`, `spend_usd` and
-- `requests` (those of the rows that count toward spend).
create or replace macro top_groups_by_period(rows, bucket, top_n) as table
with group_totals as (
    select group_value, sum(coalesce(spend_usd, 0)) as total_usd
    from query_table(rows)
    group by group_value
),
ranked as (
    select group_value, row_number() over (order by total_usd desc, group_value) as spend_rank
    from group_totals
),
labelled as (
    select
        cast(date_trunc(bucket, g.day) as date) as period,
        case when r.spend_rank <= top_n then g.group_value else 'other' end as group_value,
        case when r.spend_rank <= top_n then r.spend_rank else top_n + 1 end as spend_rank,
        g.spend_usd,
        g.requests,
        g.in_spend
    from query_table(rows) as g
    join ranked as r on r.group_value = g.group_value
),
final as (
    select
        period,
        group_value,
        min(spend_rank) as spend_rank,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd,
        coalesce(sum(requests) filter (where in_spend), 0)::bigint as requests
    from labelled
    group by period, group_value
)
select * from final;
