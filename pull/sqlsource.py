"""Database pulls with SQLAlchemy: a table (or a query) streamed in chunks to temporary CSV files, each loaded
through `ingest_paths` with a mapping file (`mapped-csv`) or a named format, incremental on a time column.

A run reads the rows whose time column is at or after the cursor minus the safety window (all rows on the first
run, or from `since`), ordered by that column, through a server-side cursor (`yield_per`), so memory holds one
chunk. After each chunk the cursor moves to the chunk's last time value; rows read again load nothing (their
natural keys are in the ledger). Identifiers are never pasted into SQL: the table is reflected and quoted by
SQLAlchemy, the time column is a reflected column (or a column of the query's subquery), values are bound.

Preset `litellm`: LiteLLM proxy's `"LiteLLM_SpendLogs"` on `"startTime"`, read as `litellm-spend-logs`, only the
columns the adapter reads (never `messages`, `response` or `proxy_server_request`: prompts and answers).
The database URL may hold a password: it is never stored, and is shown only with the password hidden.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from pull.apis import StreamReport
from pull.errors import PullConfigError, PullError, redact
from pull.sink import Sink

LITELLM_COLUMNS = ("request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens",
                   "completion_tokens", "startTime", "endTime", "model", "model_group", "custom_llm_provider", "user",
                   "team_id", "organization_id", "end_user", "metadata", "status")


@dataclass(frozen=True)
class Preset:
    table: str
    since_column: str
    format_id: str
    columns: tuple[str, ...] = ()


PRESETS = {"litellm": Preset("LiteLLM_SpendLogs", "startTime", "litellm-spend-logs", LITELLM_COLUMNS)}


@dataclass
class SqlPull:
    """One database source. Give `url` (or `url_env`, the environment variable holding it), then a `preset`, or
    `table`/`query` with `since_column` and `mapping` (or `format_id`)."""

    url: str | None = None
    url_env: str | None = None
    env: Mapping[str, str] | None = None
    preset: str | None = None
    table: str | None = None
    schema: str | None = None
    query: str | None = None
    since_column: str | None = None
    mapping: Path | None = None
    format_id: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    safety: dt.timedelta = dt.timedelta(days=2)
    chunk_rows: int = 50_000
    columns: tuple[str, ...] = field(default=())


def safe_url(url: str) -> str:
    """The URL for messages: the password hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing of it
        return "<database URL>"


def _check_url(url: str, where: str) -> None:
    """A URL SQLAlchemy can't parse, with a port that is no port, or for a driver that isn't installed: a config
    error naming where the URL came from and what is wrong, never the URL itself (it may hold a password)."""
    shape = "dialect+driver://user:password@host:port/database, e.g. postgresql+psycopg://litellm@db:5432/litellm"
    try:
        parsed = sa.engine.make_url(url)
    except ValueError:      # SQLAlchemy parses the port with int()
        raise PullConfigError(f"the database URL in {where} has a port that is not a number; write it as "
                              f"{shape}") from None
    except sa.exc.ArgumentError:
        raise PullConfigError(f"the database URL in {where} is not a URL SQLAlchemy can read; write it as "
                              f"{shape}") from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise PullConfigError(f"the database URL in {where} has port {parsed.port}, outside 1-65535")
    try:
        parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise PullConfigError(f"the database URL in {where} names {parsed.drivername!r}, which SQLAlchemy has no "
                              f"driver for here; use one of postgresql+psycopg, mysql+pymysql, sqlite") from None
    except ImportError as e:
        raise PullConfigError(f"the database URL in {where} needs the Python package {e.name or 'of its driver'}, "
                              "which is not installed") from None


def _resolve(spec: SqlPull) -> tuple[str, SqlPull]:
    env = os.environ if spec.env is None else spec.env
    url = spec.url or (env.get(spec.url_env) if spec.url_env else None)
    if not url:
        raise PullConfigError(f"give the database URL: --url, or set {spec.url_env}" if spec.url_env
                              else "give the database URL (--url, or --url-env NAME of a variable holding it)")
    _check_url(url, f"${spec.url_env}" if spec.url_env and not spec.url else "--url")
    if spec.preset:
        try:
            p = PRESETS[spec.preset]
        except KeyError:
            raise PullConfigError(f"unknown preset {spec.preset!r}; one of {', '.join(PRESETS)}") from None
        if spec.query or spec.mapping:
            raise PullConfigError(f"preset {spec.preset} reads its own table with its own format: "
                                  "give no --query or --mapping with it")
        spec = SqlPull(**{**spec.__dict__, "table": spec.table or p.table,
                          "since_column": spec.since_column or p.since_column, "format_id": p.format_id,
                          "columns": p.columns})
    if bool(spec.table) == bool(spec.query):
        raise PullConfigError("give --table or --query (one of them)")
    if not spec.since_column:
        raise PullConfigError("give --since-column: the time column the pull is incremental on")
    if not spec.mapping and not spec.format_id:
        raise PullConfigError("give --mapping FILE (how the columns map to the ledger; see docs/formats.md)")
    return url, spec


def _statement(conn: sa.Connection, spec: SqlPull, start: dt.datetime | None) -> sa.Select:
    if spec.table:
        try:
            table = sa.Table(spec.table, sa.MetaData(), schema=spec.schema, autoload_with=conn)
        except sa.exc.NoSuchTableError:
            raise PullConfigError(f"no table {spec.table!r} in the database") from None
        if spec.since_column not in table.c:
            raise PullConfigError(f"table {spec.table!r} has no column {spec.since_column!r}; "
                                  f"it has {', '.join(table.c.keys())}")
        cols = [table.c[c] for c in spec.columns if c in table.c] if spec.columns else list(table.c)
        time_col = table.c[spec.since_column]
        stmt = sa.select(*cols)
    else:
        sub = sa.text(spec.query).columns(sa.column(spec.since_column)).subquery("q")
        time_col = sub.c[spec.since_column]
        stmt = sa.select(sa.literal_column("*")).select_from(sub)
    if start is not None:
        bound = start.replace(tzinfo=None)
        if isinstance(time_col.type, sa.String):   # e.g. LiteLLM's daily tables keep `date` as text
            bound = bound.isoformat(sep=" ")
        stmt = stmt.where(time_col >= sa.bindparam("since", bound))
    return stmt.order_by(time_col)


def _cell(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, Decimal)):
        return str(v)
    if isinstance(v, bool):
        return "True" if v else "False"
    return v


def _as_time(v: object) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc) if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day, tzinfo=dt.timezone.utc)
    if isinstance(v, str) and v:
        try:
            return _as_time(dt.datetime.fromisoformat(v.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def pull_sql(sink: Sink, spec: SqlPull, *, now: dt.datetime | None = None) -> StreamReport:
    """Pull one database source into the ledger behind `sink`; the report says what it did."""
    url, spec = _resolve(spec)
    source = spec.source or (f"sql-{spec.preset}" if spec.preset else f"sql-{spec.table or 'query'}")
    stream = spec.table or "query"
    now = now or dt.datetime.now(dt.timezone.utc)
    report = StreamReport(source, stream)
    secrets = [url, sa.engine.make_url(url).password if "://" in url else None]
    sink.start(source, stream, "sql", now)
    try:
        cursor = sink.cursor(source, stream)
        start = spec.since if spec.since is not None else (cursor - spec.safety if cursor else None)
        report.window = (start, now) if start else None
        _stream_chunks(url, spec, start, sink, source, stream, report)
    except PullError as e:
        report.error = redact(str(e), secrets)
    except sa.exc.SQLAlchemyError as e:
        first = str(e.orig if getattr(e, "orig", None) else e).strip().splitlines()[0][:300]
        report.error = redact(f"Database error: {safe_url(url)}: {first}", secrets)
    except BaseException as e:
        report.error = redact(f"{type(e).__name__}: {e}", secrets)
        sink.finish(source, stream, dt.datetime.now(dt.timezone.utc), report.error)
        raise
    sink.finish(source, stream, dt.datetime.now(dt.timezone.utc), report.error)
    return report


def _stream_chunks(url: str, spec: SqlPull, start: dt.datetime | None, sink: Sink, source: str, stream: str,
                   report: StreamReport) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn, sink.scratch() as tmp:
            stmt = _statement(conn, spec, start)
            result = conn.execution_options(yield_per=spec.chunk_rows).execute(stmt)
            header = list(result.keys())
            time_i = header.index(spec.since_column)
            for n, rows in enumerate(result.partitions(), start=1):
                path = Path(tmp) / f"{source}-{n:05d}.csv"
                with open(path, "w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    writer.writerows([_cell(v) for v in row] for row in rows)
                until = _as_time(rows[-1][time_i])
                page = sink.load(source, stream, [path], format_id=spec.format_id, mapping=spec.mapping,
                                 display={str(path): f"pull:{source}/{stream} chunk {n}"}, loaded_until=until)
                path.unlink(missing_ok=True)
                report.pages += 1
                report.rows_loaded += page.loaded
                report.rows_duplicate += page.duplicate
                report.rows_rejected += page.rejected
                report.loaded_until = until or report.loaded_until
    finally:
        engine.dispose()
