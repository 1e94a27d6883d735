-- 008: who may see and change what, and what they did.
-- `users`: one row per person (email, lower-cased). `role` is viewer < analyst < admin; `teams` restricts a
-- viewer to those teams' spend (NULL or empty = every team). Sign-in (OIDC or a trusted proxy header) gives
-- the email; this table, or an IdP claim when configured, gives the role (warehouse/access.py).
create table users (
    email varchar primary key,
    role varchar not null check (role in ('viewer', 'analyst', 'admin')),
    teams varchar[],
    added_at timestamp not null,       -- UTC
    added_by varchar not null
);

-- `audit_log`: append-only record of every upload, removal, price/rule/alias/quality/budget/scenario edit,
-- user change and sign-in. Written in the same transaction as the change it records, so a change and its
-- audit row land (or roll back) together.
create sequence audit_id_seq;
create table audit_log (
    id bigint primary key default nextval('audit_id_seq'),
    occurred_at timestamp not null,    -- UTC
    actor varchar not null,            -- an email, `local` (single-user mode) or `cli:<os user>`
    action varchar not null,           -- e.g. upload, remove_upload, prices_edit (see warehouse/audit.py)
    target varchar,                    -- what it acted on: a file name, an ingest id, a table, a user
    detail varchar                     -- JSON: counts and the like, never file contents
);
