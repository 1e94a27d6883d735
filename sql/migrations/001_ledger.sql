-- 001: the canonical ledger, its ingest log and rejects, prices, model mapping and attribution.
-- The view `usage` (migration 002) is the contract; these tables are what it is built from.

create table meta (
    key varchar primary key,
    value varchar
);

create sequence ingest_id_seq start 1;

-- one row per file (or zip member) handed to ingest
create table ingest_log (
    ingest_id bigint primary key,
    file_name varchar not null,
    sha256 varchar,
    format varchar,
    source_kind varchar,          -- billing | telemetry
    status varchar not null,      -- loaded | duplicate | rejected | removed
    rows_read bigint default 0,
    rows_loaded bigint default 0,
    rows_duplicate bigint default 0,
    rows_rejected bigint default 0,
    ts_min timestamp,
    ts_max timestamp,
    loaded_at timestamp default (now() at time zone 'UTC'),
    seconds double,
    error varchar
);

-- rows set aside by validation: grain one row per (ingest, row, column)
create table ingest_rejects (
    ingest_id bigint not null,
    row_number bigint,
    column_name varchar,
    value varchar,
    reason varchar not null
);

-- canonical rows as the adapters produced them; team/workload hold what the file said (rules win in the view)
create table usage_raw (
    ts timestamp not null,
    granularity varchar not null,
    provider varchar not null,
    model varchar not null,
    model_raw varchar not null,
    account varchar,
    project varchar,
    api_key varchar,
    user_id varchar,
    team varchar,
    workload varchar,
    operation varchar not null,
    service_tier varchar not null,
    requests bigint not null,
    input_tokens bigint not null,
    cache_read_tokens bigint not null,
    cache_write_tokens bigint not null,
    output_tokens bigint not null,
    reasoning_tokens bigint not null,
    cost_usd decimal(18, 6),
    source_format varchar not null,
    ingest_id bigint not null,
    row_key uhugeint not null,     -- natural key: md5 of the source's id or of the row's content
    dim_key ubigint not null       -- hash of the attribution dimensions, joins dim_attribution
);

-- (provider, model as the adapter named it) -> the catalog's model, resolved once per distinct name
create table model_map (
    provider varchar not null,
    model varchar not null,
    catalog_provider varchar,
    catalog_model varchar,
    primary key (provider, model)
);

-- user-extensible aliases, consulted before the catalog's own matching
create table model_aliases (
    alias varchar primary key,
    model varchar not null
);

-- genai-prices flattened: USD per million tokens, valid in [valid_from, valid_to)
create table catalog_prices (
    catalog_provider varchar not null,
    model varchar not null,
    model_name varchar,
    valid_from timestamp not null,
    valid_to timestamp not null,
    input_mtok decimal(18, 9),
    output_mtok decimal(18, 9),
    cache_read_mtok decimal(18, 9),
    cache_write_mtok decimal(18, 9),
    tier_start bigint,             -- cliff: a request whose prompt exceeds this pays the tier prices for all tokens
    tier_input_mtok decimal(18, 9),
    tier_output_mtok decimal(18, 9),
    tier_cache_read_mtok decimal(18, 9),
    tier_cache_write_mtok decimal(18, 9)
);

create sequence override_id_seq start 1;

-- negotiated prices, discounts and custom models; explicit prices win over discount_pct
create table price_overrides (
    override_id bigint primary key default nextval('override_id_seq'),
    provider varchar not null,
    model varchar not null,
    effective_from date not null,
    effective_to date,             -- inclusive; open-ended when null
    input_mtok decimal(18, 9),
    output_mtok decimal(18, 9),
    cache_read_mtok decimal(18, 9),
    cache_write_mtok decimal(18, 9),
    discount_pct decimal(9, 4),
    note varchar
);

create sequence rule_id_seq start 1;

-- attribution: first matching rule (lowest priority number) sets team and/or workload
create table attribution_rules (
    rule_id bigint primary key default nextval('rule_id_seq'),
    priority integer not null default 100,
    field varchar not null check (field in ('project', 'api_key', 'user_id', 'model', 'account', 'provider')),
    pattern varchar not null,      -- glob, case-insensitive: 'support-*'
    team varchar,
    workload varchar,
    note varchar
);

create table dim_attribution (
    dim_key ubigint primary key,
    team varchar,
    workload varchar
);
