-- 005: finance. `budgets` holds monthly or quarterly budgets per team, project or provider, replaced whole from
-- a validated YAML/CSV file (finance/budgets.py). Grain: one row per (scope, name, period, period_start).
create table budgets (
    scope varchar not null check (scope in ('team', 'project', 'provider')),
    name varchar not null,                  -- the team / project / provider id as it appears in usage
    period varchar not null check (period in ('month', 'quarter')),
    period_start date not null,             -- first day of the month or quarter
    amount_usd decimal(18, 6) not null check (amount_usd >= 0),
    note varchar,
    primary key (scope, name, period, period_start)
);
