-- 013: the rest of the AI bill, part 2: self-hosted inference. `self_hosted_costs` holds what running an internal
-- model cost over a period (GPU-hours x a rate, or an amount), replaced whole from a validated file
-- (finance/whole_bill.py). `self_hosted_rates` is derived from it at every write (sql/writes/
-- refresh_self_hosted_rates.sql): the period's cost over the tokens the ledger logged for that provider and model
-- in it, an effective USD per 1M tokens. `price_overrides_effective` (002) now also carries those rates as prices
-- for every token class, unless the user's own price_overrides name the same provider and model (theirs win), so
-- the internal model is priced in `usage`, reconciled against its cost file and usable as a What-if target.
create table self_hosted_costs (
    provider varchar not null default 'internal',
    model varchar not null,                  -- the model id as the usage view shows it (after aliases)
    start_date date not null,
    end_date date not null,                  -- inclusive
    gpu_hours decimal(18, 4) check (gpu_hours >= 0),
    usd_per_gpu_hour decimal(18, 6) check (usd_per_gpu_hour >= 0),
    amount_usd decimal(18, 6) check (amount_usd >= 0),   -- a flat amount, instead of or on top of GPU-hours
    note varchar,
    check (end_date >= start_date),
    check (amount_usd is not null or (gpu_hours is not null and usd_per_gpu_hour is not null))
);

create table self_hosted_rates (
    provider varchar not null,
    model varchar not null,
    valid_from timestamp not null,
    valid_to timestamp not null,             -- exclusive
    cost_usd decimal(18, 6) not null,
    tokens bigint not null,                  -- logged in the period: input + cache read + cache write + output
    usd_per_mtok decimal(24, 12),            -- null when no token was logged (nothing to price)
    primary key (provider, model, valid_from)
);

create or replace view price_overrides_effective as
with ordered as (
    select
        *,
        lead(effective_from) over (partition by provider, model order by effective_from) as next_from
    from price_overrides
),
user_overrides as (
    select
        provider,
        model,
        cast(effective_from as timestamp) as valid_from,
        cast(coalesce(
            least(effective_to + interval 1 day, next_from),
            effective_to + interval 1 day,
            next_from,
            date '9999-12-31'
        ) as timestamp) as valid_to,
        input_mtok,
        output_mtok,
        cache_read_mtok,
        cache_write_mtok,
        coalesce(discount_pct, 0) as discount_pct
    from ordered
),
self_hosted as (
    -- one flat rate for every class: a GPU-hour does not tell input from output
    select
        r.provider, r.model, r.valid_from, r.valid_to,
        cast(r.usd_per_mtok as decimal(18, 9)) as input_mtok,
        cast(r.usd_per_mtok as decimal(18, 9)) as output_mtok,
        cast(r.usd_per_mtok as decimal(18, 9)) as cache_read_mtok,
        cast(r.usd_per_mtok as decimal(18, 9)) as cache_write_mtok,
        cast(0 as decimal(9, 4)) as discount_pct
    from self_hosted_rates as r
    where r.usd_per_mtok is not null
        and not exists (select 1 from price_overrides as o where o.provider = r.provider and o.model = r.model)
),
final as (
    select * from user_overrides
    union all by name
    select * from self_hosted
)
select * from final;
