"""The staging statement: read the file, run the format's mapping SQL, cast and validate in one pass.

The text is assembled from the fixed canonical column names and the format's own SQL file only; the file
path, the ingest id and every value are bound parameters. Output: table `staged` with the typed canonical columns,
`_row`, `row_key` (null for an id-less row of a keyed format until writes/key_idless_rows.sql numbers it),
`_content` (that row's content as text, else null), `_errors` (null for a row that loads; else a list of
{column, value, reason}) and `_warnings` (the same shape: what looks wrong about a row that loads all the same).
"""

from __future__ import annotations

import sql
from ingest.formats.base import TOKEN_COLUMNS, Format, Sample

DELIMITERS = (",", "\t", ";", "|")

TEXT_COLUMNS = ("granularity", "provider", "model", "model_raw", "account", "project", "api_key", "user_id",
                "team", "workload", "operation", "service_tier", "session_id")
# a row's content, as its id-less key hashes it: every text column but the session id, which is metadata of the
# row (migration 019): an export that lacks it must key its rows as an older load of the same rows did
CONTENT_TEXT = tuple(c for c in TEXT_COLUMNS if c != "session_id")
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
        paths, columns = _json_text_columns(fmt, sample)
        body = (f"select {columns} from (select json_extract_string(json, [{paths}]) as v "
                "from read_json_objects($path, format = 'auto', compression = $compression, "
                "maximum_object_size = 268435456))")
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
        opts = "".join(f", {k} = {sql.literal(v)}" for k, v in sorted(options.items()) if k.isidentifier())
        body = ("select * from read_csv($path, all_varchar = true, header = true, compression = $compression"
                f"{opts})")
    renames = fmt.renames(sample)
    have = sample.lower | {c.lower() for c in renames.values()}
    extras = "".join(f", null::varchar as {c}" for c in fmt.optional if c.lower() not in have)
    star = "*"
    if renames:
        star += " rename (" + ", ".join(f"{_ident(a)} as {_ident(b)}" for a, b in sorted(renames.items())) + ")"
    return f"select row_number() over () as _row, {star}{extras} from ({body})"


def _json_text_columns(fmt: Format, sample: Sample) -> tuple[str, str]:
    """The JSON paths to read from each record (one parse per record: a list of paths) and the text columns made
    of them: one per key the head shows and per key the format reads. A dotted name is the key itself when a
    record has it, else the path (`usage.input_tokens` -> $.usage.input_tokens)."""
    names = sorted({*sample.columns, *fmt.required, *fmt.optional, *fmt.aliases}, key=str.lower)
    seen, paths, cols = set(), [], []

    def quoted(part: str) -> str:
        return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'

    for name in names:
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        paths.append(sql.literal("$." + quoted(name)))
        expr = f"v[{len(paths)}]"
        parts = name.split(".")
        if len(parts) > 1 and all(parts):
            paths.append(sql.literal("$" + "".join("." + quoted(p) for p in parts)))
            expr = f"coalesce({expr}, v[{len(paths)}])"
        cols.append(f"{expr} as {_ident(name)}")
    if not paths:
        return "'$'", "v[1] as json"
    return ", ".join(paths), ", ".join(cols)


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


def _check(cond: str, column: str, raw: str, reason: str) -> str:
    col = column.replace("'", "")
    why = reason.replace("'", "")
    return (f"case when {cond} then {{'column': '{col}', 'value': left(cast({raw} as varchar), 200), "
            f"'reason': '{why}'}} end")


def _trim(text: str) -> str:
    """`trim(text)`, skipping the call where it cannot change the text: all ASCII (as many bytes as characters) and no
    space at either end. DuckDB's trim strips only Unicode space separators (' ', U+00A0, U+3000, ...; not tabs), so
    the result is the same, and trim itself costs ~0.25 CPU s per 1 M cells (a third of staging's text columns)."""
    return (f"case when not (starts_with({text}, ' ') or ends_with({text}, ' ')) and strlen({text}) = length({text}) "
            f"then {text} else trim({text}) end")


def _amount(raw: str) -> str:
    """Text as money at full precision: a plain decimal exactly, else a number in exponent form ('1e-7').

    The text is tried first as DECIMAL(18, 12) (under a million dollars: every usage row), which DuckDB parses
    about ten times faster than DECIMAL(38, 12) (0.27 -> 0.03 CPU s per 500 k cells, docs/benchmarks.md "ninth
    session"): the same parser with the same scale, so where it succeeds the value is the wider parse's; where it
    does not (a million or more, a value that rounds up to it, text only the trimmed or double parse reads) the
    wider parses decide as before. The text is cast to varchar first, so a number the adapter computed is parsed
    from its text like any other, never converted from binary directly."""
    text = f"cast({raw} as varchar)"
    return (f"coalesce(try_cast({text} as decimal(18, 12)), try_cast(trim({text}) as decimal(38, 12)), "
            f"try_cast(try_cast({raw} as double) as decimal(38, 12)))")


def staging_sql(fmt: Format, sample: Sample, compression: str) -> str:
    """Two lists per row: `checks` reject it (it cannot be placed: no time, a non-number in a number column,
    nothing to place), `warns` keep it with a named warning (implausible but money all the same).

    Every cell is parsed once, in `parsed` (`_p_*`: the time, each quantity as a number, the cost as an amount);
    `checked` types and judges the row from those. A condition that needs a cell's text (is it blank?) tests the
    parsed value first, so the text is looked at only where the parse failed: the same verdicts as judging the
    text of every row, at a fraction of the cost (DECIMAL(38, 12) parsing of the cost was three times per row)."""
    src = lambda c: fmt.sources.get(c, c)  # noqa: E731 -- the file's own column name, for messages
    parsed, typed, checks, warns = [], [], [], []

    parsed.append("try_cast(m.ts as timestamptz) as _p_ts")
    typed.append("cast(m._p_ts as timestamp) as ts")
    # a blank time never parses, so the text is read only where the parse failed
    checks.append(_check("m._p_ts is null and (m.ts is null or trim(cast(m.ts as varchar)) = '')", src("ts"), "m.ts",
                         "missing time"))
    checks.append(_check("m._p_ts is null and trim(cast(m.ts as varchar)) <> ''", src("ts"), "m.ts",
                         "not a date/time"))
    warns.append(_check("m._p_ts < timestamptz '2015-01-01'", src("ts"), "m.ts", "time before 2015"))
    warns.append(_check("m._p_ts > current_timestamp + interval 1 day", src("ts"), "m.ts", "time in the future"))
    for c in TEXT_COLUMNS:
        if c == "session_id" and not fmt.sessions:
            typed.append("cast(null as varchar) as session_id")   # the format logs no conversation id
            continue
        parsed.append(f"nullif({_trim(f'cast(m.{c} as varchar)')}, '') as _p_{c}")
        if c in REQUIRED_TEXT:   # a row with money or tokens but no name is kept as 'unknown' (warned below)
            typed.append(f"coalesce(m._p_{c}, 'unknown') as {c}")
        elif c == "operation":
            typed.append("coalesce(m._p_operation, 'chat') as operation")
        elif c == "service_tier":
            typed.append("coalesce(m._p_service_tier, 'standard') as service_tier")
        else:
            typed.append(f"m._p_{c} as {c}")
    # labels (migration 024): metadata, like session_id not part of the content key; built by the adapter
    typed.append("cast(m.labels as map(varchar, varchar)) as labels" if fmt.labels
                 else "cast(null as map(varchar, varchar)) as labels")
    # unknown enum values are kept verbatim: a new tier or bucket width is still billed usage
    for c, allowed in (("granularity", GRANULARITIES), ("operation", OPERATIONS), ("service_tier", TIERS)):
        lst = ", ".join(f"'{a}'" for a in allowed)
        warns.append(_check(f"m.{c} is not null and coalesce(m._p_{c}, '') not in ({lst})", src(c), f"m.{c}",
                            f"not one of {'/'.join(allowed)} (kept as written)"))
    quantities = []
    for c in ("requests", *TOKEN_COLUMNS):
        default = 1 if c == "requests" else 0
        raw = f"m._raw_{c}" if c in fmt.raw else f"m.{c}"
        num = f"m._p_{c}"
        parsed.append(f"try_cast(m.{c} as double) as _p_{c}")
        if c in fmt.raw:
            parsed.append(f"try_cast(m._raw_{c} as double) as _p_raw_{c}")
        raw_num = f"m._p_raw_{c}" if c in fmt.raw else num
        typed.append(f"coalesce(try_cast({num} as bigint), {default}) as {c}")
        blank = f"({raw} is null or trim(cast({raw} as varchar)) = '')"
        checks.append(_check(f"{raw_num} is null and not {blank}", src(c), raw, "not a number"))
        checks.append(_check(f"isnan({num}) or isinf({num})", src(c), raw, "not a finite number"))
        # past 10^13 in one row is a unit mistake that would swamp every total: set aside, named
        checks.append(_check(f"abs({num}) > {MAX_TOKENS}", src(c), raw, "implausibly large"))
        warns.append(_check(f"{num} < 0", src(c), f"m.{c}", "negative (kept as written)"))
        warns.append(_check(f"{num} <> round({num})", src(c), raw, "not a whole number (rounded)"))
        if c != "requests":
            quantities.append(f"coalesce({num}, 0) <> 0")
    parsed.append(f"{_amount('m.cost_usd')} as _p_cost")
    typed.append("m._p_cost as cost_usd")
    checks.append(_check("m._p_cost is null and m.cost_usd is not null and trim(cast(m.cost_usd as varchar)) <> ''",
                         src("cost_usd"), "m.cost_usd", "not an amount"))
    # where a source reports thinking apart from output the adapter adds it to output (docs/formats.md); more
    # reasoning than output left is a source's own inconsistency, kept and named
    warns.append(_check("m._p_reasoning_tokens > m._p_output_tokens", src("reasoning_tokens"), "m.reasoning_tokens",
                        "more than output_tokens"))
    something = f"({' or '.join(quantities)} or m._p_cost is not null)"
    for c in REQUIRED_TEXT:
        warns.append(_check(f"m._p_{c} is null and {something}", src(c), f"m.{c}", "missing (kept as unknown)"))
    checks.append(_check(f"m._p_model is null and not {something}", src("model"), "m.model",
                         "nothing to place: no model, tokens or cost"))

    errors = ", ".join(checks)
    warnings = ", ".join(warns)
    content = ", ".join(f"cast({c} as varchar)" for c in ("ts", *CONTENT_TEXT, "requests", *TOKEN_COLUMNS, "cost_usd"))
    if fmt.keyed:
        # request_row_key: the macro of migration 009, also used to match a shadow evaluation's request ids.
        # An id-less row is keyed on its content plus its occurrence among identical id-less rows (so each line
        # counts): `_content` here, the occurrence by writes/key_idless_rows.sql over those rows alone. (A window
        # here would sort every row of the file by _row to number the few without an id: 20 of the 36 operator
        # seconds of staging 1 M LiteLLM rows, EXPLAIN ANALYZE, docs/benchmarks.md.)
        row_key = "request_row_key(provider, _key)"
        content_col = f"case when _key is null then concat_ws('|', {content}) end as _content,"
    else:
        # a statement's line has no identity beyond this load: unique per ingest and row (dedupe of statements is
        # by window, writes/replace_window.sql)
        row_key = "md5_number(concat_ws('|', 'ingest', $ingest_id, _row))"
        content_col = "null::varchar as _content,"
    typed_sql = ",\n        ".join(typed)
    parsed_sql = ",\n        ".join(parsed)
    return f"""
create or replace temp table staged as
with src as (
    {reader_sql(fmt, sample, compression)}
),
mapped as (
{fmt.sql}
),
parsed as (
    select
        m.*,
        {parsed_sql}
    from mapped as m
),
checked as (
    select
        m._row,
        m._key,
        {typed_sql},
        list_filter([{errors}], lambda e: e is not null) as _err,
        list_filter([{warnings}], lambda e: e is not null) as _warn
    from parsed as m
),
keyed as (
    select
        * exclude (_err, _warn, model_raw),
        coalesce(model_raw, model) as model_raw,
        nullif(_err, []) as _errors,
        nullif(_warn, []) as _warnings,
        -- a request's id (provider, id) when the source issues one; id-less rows of such a source: the content plus
        -- its occurrence (filled in by writes/key_idless_rows.sql); a statement's line: this load and row
        {content_col}
        {row_key} as row_key
    from checked
)
select * from keyed
"""
