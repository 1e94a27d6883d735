-- 004: billing vs telemetry. When several sources cover the same provider and day (an invoice export and a
-- gateway log, say), adding them would count the same spend twice. `source_choice` picks, per provider and day,
-- the one source whose spend counts (billing first) and the one the replay uses (the most detailed).
-- Rebuilt by writes/refresh_source_choice.sql in every write transaction.
create table source_choice (
    provider varchar not null,
    day date not null,
    source_format varchar not null,
    source_kind varchar,
    detail integer,            -- 1 request, 2 minute, 3 hour, 4 day, 5 month
    has_cost boolean,
    has_tokens boolean,
    row_count bigint,
    in_spend boolean not null,
    in_replay boolean not null
);

-- the usage rows the replay should see: per provider and day, only the most detailed source
create view usage_replay as
select u.*
from usage as u
semi join source_choice as s
    on s.provider = u.provider and s.day = cast(u.ts as date) and s.source_format = u.source_format
    and s.in_replay;
