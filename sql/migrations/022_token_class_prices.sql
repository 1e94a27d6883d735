-- 022: the list price per token class of usage rows, written once (issue 17): the catalog price in force with
-- the user's overrides (explicit prices, else the discount) and the self-hosted rates (013) applied, and the batch
-- tier at 50%, as the usage view prices a row. Callers:
--   writes/usage_daily_rows (rows of `usage`, priced at their ts), queries/finance_regression_daily and
--   queries/finance_focus_cost_usage (rows of `usage_daily`, priced at their day).
-- The rows are an argument (a relation name: a CTE of the caller), never named here: a team-restricted cursor
-- shadows `usage` and `usage_daily` with temp views (warehouse/db.py `_TEAM_SCOPED`), and the caller's own
-- reference is the one that resolves to them (tests/warehouse/test_access.py checks a restricted view's prices
-- equal the prices of only its teams' rows). The relations read here (model_map, catalog_prices,
-- price_overrides_effective) hold prices, not spend.
-- Grain: none (definitions only).

-- `rows` names a relation with columns provider, model, service_tier and price_at (the timestamp whose prices
-- apply). Every column passes through, one row per row (the joins match at most one price each), and these are
-- added, in USD per 1M tokens:
--   c_in, c_out, c_cr, c_cw: the catalog's own prices (cache read/write default to input), no override applied;
--   has_override: an override (the user's or a self-hosted rate) is in force for the row;
--   batch_factor: 0.5 on the batch tier, else 1.0;
--   factor: batch_factor times (1 - the override's discount), or batch_factor alone for explicit override prices;
--   p_in, p_out, p_cr, p_cw: the prices in force (override, else catalog; cache read/write default to input);
--     a class's list cost is tokens * p_<class> * factor / 1e6. p_out is null where no output price is known.
create or replace macro token_class_prices(rows) as table
with catalog_model_of as (
    -- the catalog provider each (provider, catalog model) was resolved to
    select provider, catalog_model as model, min(catalog_provider) as catalog_provider
    from model_map
    where catalog_model is not null
    group by all
),
final as (
    select
        r.*,
        c.input_mtok as c_in,
        c.output_mtok as c_out,
        coalesce(c.cache_read_mtok, c.input_mtok) as c_cr,
        coalesce(c.cache_write_mtok, c.input_mtok) as c_cw,
        o.provider is not null as has_override,
        case when r.service_tier = 'batch' then 0.5 else 1.0 end as batch_factor,
        (case when o.input_mtok is not null then 1 else 1 - coalesce(o.discount_pct, 0) / 100 end)
            * (case when r.service_tier = 'batch' then 0.5 else 1 end) as factor,
        coalesce(o.input_mtok, c.input_mtok) as p_in,
        coalesce(o.output_mtok, c.output_mtok) as p_out,
        coalesce(o.cache_read_mtok, c.cache_read_mtok, o.input_mtok, c.input_mtok) as p_cr,
        coalesce(o.cache_write_mtok, c.cache_write_mtok, o.input_mtok, c.input_mtok) as p_cw
    from query_table(rows) as r
    left join catalog_model_of as m on m.provider = r.provider and m.model = r.model
    left join catalog_prices as c
        on c.catalog_provider = m.catalog_provider and c.model = r.model
        and r.price_at >= c.valid_from and r.price_at < c.valid_to
    left join price_overrides_effective as o
        on o.provider = r.provider and o.model = r.model
        and r.price_at >= o.valid_from and r.price_at < o.valid_to
)
select * from final;
