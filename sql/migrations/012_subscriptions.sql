-- 012: the rest of the AI bill, part 1: seats and subscriptions (ChatGPT Enterprise, Claude Team/Enterprise,
-- Copilot, Cursor, ...) per team, replaced whole from a validated YAML/CSV file (finance/whole_bill.py) and spread
-- per day by the queries (finance_subscription_daily): a day's cost is seats x price per seat / the days of its
-- month (period `month`) or of its year (period `year`), from start_date through end_date (inclusive; open when
-- null). Grain: one row per subscription line.
create table subscriptions (
    vendor varchar not null,                 -- OpenAI, Anthropic, GitHub, Cursor, ...
    product varchar not null,                -- ChatGPT Enterprise, Claude Team, Copilot Business, ...
    team varchar not null,                   -- the team it is charged to, as in usage
    seats integer not null check (seats >= 0),
    price_per_seat_usd decimal(18, 6) not null check (price_per_seat_usd >= 0),
    period varchar not null check (period in ('month', 'year')),   -- the price is per seat per month or per year
    start_date date not null,
    end_date date,
    note varchar,
    check (end_date is null or end_date >= start_date)
);
