"""The staging statement: read the file, run the format's mapping SQL, cast and validate in one pass.

The text is assembled from the fixed canonical column names and the format's own SQL file only; the file
path and every value are bound parameters. Output: table `staged` with the typed canonical columns, `_row`,
`row_key` and `_errors` (null for a good row; else a list of {column, value, reason}).
"""

from __future__ import annotations

from ingest.formats.base import TOKEN_COLUMNS, Format, Sample

DELIMITERS = (",", "\t", ";", "|")

TEXT_COLUMNS = ("granularity", "provider", "model", "model_raw", "account", "project", "api_key", "user_id",
                "team", "workload", "operation", "service_tier")
REQUIRED_TEXT = ("provider", "model")
GRANULARITIES = ("request", "minute", "hour", "day", "month")
OPERATIONS = ("chat", "embeddings", "images", "audio", "moderation", "other")
TIERS = ("standard", "batch", "flex", "priority")
# tokens past this in one row are a unit mistake, not usage (10^13 = 10 trillion)
MAX_TOKENS = 10**13


def reader_sql(fmt: Format, sample: Sample, compression: str) -> str:
    """`src`: the file as rows, every value text for CSV/Parquet, numbered from 1 in file order."""
    if sample.container == "parquet":
        body = "select columns(*)::varchar from read_parquet($path)"
    elif sample.container == "json" and fmt.json_as_text:
        body = (f"select {_json_text_columns(fmt, sample)} from read_json_objects($path, format = 'auto', "
                "compression = $compression, maximum_object_size = 268435456)")
    elif sample.container == "json":
        body = ("select * from read_json($path, format = 'auto', compression = $compression, "
                "maximum_object_size = 268435456, maximum_depth = 64)")
    else:
        options = dict(fmt.csv_options)
        if sample.delimiter != "," or sample.pad:
            # the delimiter read.sample found (a closed set): DuckDB's sniffer gives up on a tab-separated file
            # whose empty rows carry a trailing tab, and then reads it as one column
            options.setdefault("delim", sample.delimiter if sample.delimiter in DELIMITERS else ",")
        if sample.pad:
            options["null_padding"] = True
        opts = "".join(f", {k} = {_sql_literal(v)}" for k, v in sorted(options.items()) if k.isidentifier())
        body = ("select * from read_csv($path, all_varchar = true, header = true, compression = $compression"
                f"{opts})")
    renames = fmt.renames(sample)
    have = sample.lower | {c.lower() for c in renames.values()}
    extras = "".join(f", null::varchar as {c}" for c in fmt.optional if c.lower() not in have)
    star = "*"
    if renames:
        star += " rename (" + ", ".join(f"{_ident(a)} as {_ident(b)}" for a, b in sorted(renames.items())) + ")"
    return f"select row_number() over () as _row, {star}{extras} from ({body})"


def _json_text_columns(fmt: Format, sample: Sample) -> str:
    """One text column per key: those the head shows and those the format reads. A dotted name is the key itself
    when a record has it, else the path (`usage.input_tokens` -> $.usage.input_tokens)."""
    names = sorted({*sample.columns, *fmt.required, *fmt.optional, *fmt.aliases}, key=str.lower)
    seen, cols = set(), []
    for name in names:
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        literal = '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        expr = f"json_extract_string(json, {_sql_literal(literal)})"
        parts = name.split(".")
        if len(parts) > 1 and all(parts):
            path = "$" + "".join('."' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)
            expr = f"coalesce({expr}, json_extract_string(json, {_sql_literal(path)}))"
        cols.append(f"{expr} as {_ident(name)}")
    return ", ".join(cols) or "json"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_rows_sql(fmt: Format, sample: Sample, compression: str) -> str:
    """How many rows the file holds as read (before the format keeps its own), for a file that staged none."""
    return f"select count(*) from ({reader_sql(fmt, sample, compression)}) where {fmt.data_rows}"


def nothing_loaded(name: str, fmt: Format, sample: Sample, rows: int) -> str:
    """What is true of a file that holds no row to load: empty under its header, or rows the format does not keep
    (a billing export with no AI service in it, an export of empty buckets)."""
    if rows == 0:
        return f"{name}: 0 rows: nothing to load"
    unit = "records" if sample.container == "json" else "rows"
    return f"{name}: {rows:,} {unit}, none {fmt.selects}: nothing loaded"


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _check(cond: str, column: str, raw: str, reason: str) -> str:
    col = column.replace("'", "")
    why = reason.replace("'", "")
    return (f"case when {cond} then {{'column': '{col}', 'value': left(cast({raw} as varchar), 200), "
            f"'reason': '{why}'}} end")


def staging_sql(fmt: Format, sample: Sample, compression: str) -> str:
    src = lambda c: fmt.sources.get(c, c)  # noqa: E731 -- the file's own column name, for messages
    typed, checks = [], []

    typed.append("cast(try_cast(m.ts as timestamptz) as timestamp) as ts")
    checks.append(_check("m.ts is null or trim(cast(m.ts as varchar)) = ''", src("ts"), "m.ts", "missing time"))
    checks.append(_check("try_cast(m.ts as timestamptz) is null and trim(cast(m.ts as varchar)) <> ''",
                         src("ts"), "m.ts", "not a date/time"))
    checks.append(_check("try_cast(m.ts as timestamptz) not between timestamptz '2015-01-01' "
                         "and current_timestamp + interval 366 day", src("ts"), "m.ts",
                         "time outside 2015 to next year"))
    for c in TEXT_COLUMNS:
        typed.append(f"nullif(trim(cast(m.{c} as varchar)), '') as {c}")
    for c in REQUIRED_TEXT:
        checks.append(_check(f"nullif(trim(cast(m.{c} as varchar)), '') is null", src(c), f"m.{c}", "missing"))
    for c, allowed in (("granularity", GRANULARITIES), ("operation", OPERATIONS), ("service_tier", TIERS)):
        lst = ", ".join(f"'{a}'" for a in allowed)
        checks.append(_check(f"m.{c} is not null and m.{c} not in ({lst})", src(c), f"m.{c}",
                             f"not one of {'/'.join(allowed)}"))
    for c in ("requests", *TOKEN_COLUMNS):
        default = 1 if c == "requests" else 0
        raw = f"m._raw_{c}" if c in fmt.raw else f"m.{c}"
        num = f"try_cast(m.{c} as double)"
        typed.append(f"coalesce(try_cast({num} as bigint), {default}) as {c}")
        blank = f"({raw} is null or trim(cast({raw} as varchar)) = '')"
        checks.append(_check(f"not {blank} and try_cast({raw} as double) is null", src(c), raw, "not a number"))
        checks.append(_check(f"isnan({num}) or isinf({num})", src(c), raw, "not a finite number"))
        checks.append(_check(f"{num} < 0", src(c), f"m.{c}", "negative"))
        checks.append(_check(f"{num} <> floor({num})", src(c), raw, "not a whole number"))
        checks.append(_check(f"{num} > {MAX_TOKENS}", src(c), raw, "implausibly large"))
    typed.append("try_cast(m.cost_usd as decimal(18, 6)) as cost_usd")
    checks.append(_check("m.cost_usd is not null and trim(cast(m.cost_usd as varchar)) <> '' "
                         "and try_cast(m.cost_usd as decimal(18, 6)) is null", src("cost_usd"), "m.cost_usd",
                         "not an amount"))
    checks.append(_check("try_cast(m.reasoning_tokens as double) > try_cast(m.output_tokens as double)",
                         src("reasoning_tokens"), "m.reasoning_tokens", "more than output_tokens"))

    errors = ", ".join(checks)
    content = ", ".join(f"cast({c} as varchar)" for c in ("ts", *TEXT_COLUMNS, "requests", *TOKEN_COLUMNS, "cost_usd"))
    if fmt.keyed:
        # request_row_key: the macro of migration 009, also used to match a shadow evaluation's request ids
        row_key = f"coalesce(request_row_key(provider, _key), md5_number(concat_ws('|', {content})))"
    else:
        row_key = f"md5_number(concat_ws('|', {content}, row_number() over (partition by {content} order by _row)))"
    typed_sql = ",\n        ".join(typed)
    return f"""
create or replace temp table staged as
with src as (
    {reader_sql(fmt, sample, compression)}
),
mapped as (
{fmt.sql}
),
checked as (
    select
        m._row,
        m._key,
        {typed_sql},
        list_filter([{errors}], lambda e: e is not null) as _err
    from mapped as m
),
keyed as (
    select
        * exclude (_err, model_raw),
        coalesce(model_raw, model) as model_raw,
        nullif(_err, []) as _errors,
        -- the source's id when it has one; else the content plus its occurrence, so two identical rows in one
        -- file both load and the same file again adds nothing
        {row_key} as row_key
    from checked
)
select * from keyed
"""
