-- canonical: a file already in the docs/design.md input columns (absent optional ones arrive as null).
-- Grain: one row per file row. Values stay text; the framework casts and validates them.
select
    _row,
    null as _key,
    ts,
    coalesce(nullif(lower(trim(granularity)), ''), 'request') as granularity,
    lower(trim(provider)) as provider,
    trim(model) as model,
    coalesce(nullif(trim(model_raw), ''), trim(model)) as model_raw,
    account,
    project,
    api_key,
    user_id,
    team,
    workload,
    session_id,
    coalesce(nullif(lower(trim(operation)), ''), 'chat') as operation,
    coalesce(nullif(lower(trim(service_tier)), ''), 'standard') as service_tier,
    requests,
    input_tokens,
    cache_read_tokens,
    cache_write_tokens,
    output_tokens,
    reasoning_tokens,
    cost_usd
from src
