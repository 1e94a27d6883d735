"""`modelmix pull …` and `modelmix jobs …` (registered in cli/main.py). Exit codes: 0 every stream/job ok,
1 one failed (or a config error), 2 usage error. While the dashboard holds the ledger, everything goes through
its inbox (docs/design.md, "Storage and concurrency")."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from modelmix.settings import Settings
from warehouse.errors import DatabaseBusy


def add_parsers(sub, with_db) -> None:
    """The `pull` and `jobs` subcommands, added to the main parser's subparsers."""
    pp = sub.add_parser("pull", help="pull usage from a provider API or a gateway database into the ledger")
    psub = pp.add_subparsers(dest="pull_kind", required=True)
    for kind, key_env in (("openai", "OPENAI_ADMIN_KEY"), ("anthropic", "ANTHROPIC_ADMIN_KEY"),
                          ("openrouter", "OPENROUTER_API_KEY")):
        sp = with_db(psub.add_parser(kind, help=f"{kind} usage and cost (key in ${key_env})"))
        sp.add_argument("--base-url", help=f"API base URL (default: setting {kind}_base_url)")
        sp.add_argument("--key-env", default=key_env, help=f"the environment variable holding the key ({key_env})")
        _common(sp)
        sp.set_defaults(fn=cmd_pull_api, kind=kind)
    sp = with_db(psub.add_parser("sql", help="a table or query of a database (SQLAlchemy URL), e.g. LiteLLM's"))
    url = sp.add_mutually_exclusive_group(required=True)
    url.add_argument("--url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/litellm")
    url.add_argument("--url-env", metavar="VAR", help="an environment variable holding the URL (keeps passwords "
                     "out of the process list)")
    what = sp.add_mutually_exclusive_group(required=True)
    what.add_argument("--preset", choices=("litellm",), help='litellm: "LiteLLM_SpendLogs", no mapping needed')
    what.add_argument("--table", help="a table name (quoted for you)")
    what.add_argument("--query", help="a SELECT; the pull filters and orders it on --since-column")
    sp.add_argument("--schema", help="the table's schema")
    sp.add_argument("--mapping", type=Path, help="a YAML mapping file (docs/formats.md, mapped-csv)")
    sp.add_argument("--since-column", help="the time column the pull is incremental on")
    sp.add_argument("--chunk-rows", type=int, default=50_000, help="rows per chunk file (default 50000)")
    _common(sp)
    sp.set_defaults(fn=cmd_pull_sql, kind="sql")

    jp = sub.add_parser("jobs", help="run due pulls from the jobs file, or show what pulls did")
    jsub = jp.add_subparsers(dest="jobs_command", required=True)
    sp = with_db(jsub.add_parser("run", help="run the due jobs once (exit 1 when one failed)"))
    sp.add_argument("--name", help="only this job (if due; with --force, now)")
    sp.add_argument("--force", action="store_true", help="run even if not due")
    sp.add_argument("--file", type=Path, help="the jobs file (default: setting jobs_file)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_jobs_run)
    sp = with_db(jsub.add_parser("status", help="every pulled source: cursor, last run, rows, errors"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_jobs_status)


def _common(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--name", help="the source name in the pull state (default: the kind)")
    sp.add_argument("--since", type=dt.date.fromisoformat, help="YYYY-MM-DD: start here instead of the cursor")
    sp.add_argument("--safety-window", help="re-read this much before the cursor (default: setting "
                    "pull_safety_window, 2d)")
    sp.add_argument("--json", action="store_true", help="print one JSON object")


def _sink(args: argparse.Namespace, settings: Settings):
    """(sink, warehouse or None): the ledger itself, or the inbox of the process holding it."""
    from modelmix.runtime import open_owner
    from pull import InboxSink, LocalSink

    db = Path(args.db) if args.db else settings.db
    try:
        wh = open_owner(db, settings, watch_inbox=False)
    except DatabaseBusy:
        print(f"{db} is open in the dashboard; handing the pulled data to it…", file=sys.stderr)
        return InboxSink(db, timeout=settings.inbox_timeout_seconds), None
    return LocalSink(wh, max_unzipped_bytes=settings.max_unzipped_bytes), wh


def _since(d: dt.date | None) -> dt.datetime | None:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) if d else None


def _safety(args: argparse.Namespace, settings: Settings) -> dt.timedelta:
    from pull.jobs import parse_duration

    return parse_duration(args.safety_window or settings.pull_safety_window)


def base_urls(settings: Settings) -> dict[str, str]:
    return {"openai": settings.openai_base_url, "anthropic": settings.anthropic_base_url,
            "openrouter": settings.openrouter_base_url}


def _print(reports, as_json: bool) -> int:
    from pull import describe, reports_json

    print(reports_json(reports) if as_json else describe(reports))
    return 0 if all(r.ok for r in reports) else 1


def cmd_pull_api(args: argparse.Namespace, settings: Settings) -> int:
    from pull import PullOptions, pull_provider

    options = PullOptions(source=args.name, base_url=args.base_url or base_urls(settings)[args.kind],
                          key_env=args.key_env, since=_since(args.since), safety=_safety(args, settings),
                          lookback=dt.timedelta(days=settings.pull_lookback_days))
    sink, wh = _sink(args, settings)
    try:
        return _print(pull_provider(sink, args.kind, options), args.json)
    finally:
        if wh is not None:
            wh.close()


def cmd_pull_sql(args: argparse.Namespace, settings: Settings) -> int:
    from pull import SqlPull, pull_sql

    spec = SqlPull(url=args.url, url_env=args.url_env, preset=args.preset, table=args.table, schema=args.schema,
                   query=args.query, since_column=args.since_column, mapping=args.mapping, source=args.name,
                   since=_since(args.since), safety=_safety(args, settings), chunk_rows=args.chunk_rows)
    sink, wh = _sink(args, settings)
    try:
        return _print([pull_sql(sink, spec)], args.json)
    finally:
        if wh is not None:
            wh.close()


def cmd_jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from pull.jobs import execute, load_jobs, run_due

    jobs = load_jobs(args.file or settings.jobs_file)
    lookback = dt.timedelta(days=settings.pull_lookback_days)
    sink, wh = _sink(args, settings)
    try:
        if args.force:
            selected = [jobs.get(args.name)] if args.name else jobs.jobs
            outcomes = [execute(sink, j, base_urls=base_urls(settings), lookback=lookback) for j in selected]
        else:
            outcomes = run_due(sink, jobs, name=args.name, base_urls=base_urls(settings), lookback=lookback)
    finally:
        if wh is not None:
            wh.close()
    if args.json:
        print(json.dumps({"jobs": [o.to_json() for o in outcomes]}, indent=2))
    else:
        from pull import describe

        for o in outcomes:
            if not o.ran:
                print(f"not due  {o.name}")
            elif o.error:
                print(f"FAILED  {o.name}: {o.error}")
            if o.reports:
                print(describe(o.reports))
    return 0 if all(o.ok for o in outcomes) else 1


def cmd_jobs_status(args: argparse.Namespace, settings: Settings) -> int:
    import polars as pl

    sink, wh = _sink(args, settings)
    try:
        rows = sink.status()
    finally:
        if wh is not None:
            wh.close()
    if args.json:
        print(json.dumps({"sources": rows}, indent=2, default=str))
    elif not rows:
        print("Nothing pulled yet: see `modelmix pull --help` and docs/pulls.md.")
    else:
        pl.Config.set_tbl_cols(-1)
        pl.Config.set_tbl_width_chars(200)
        pl.Config.set_tbl_hide_column_data_types(True)
        pl.Config.set_fmt_str_lengths(80)
        print(pl.DataFrame(rows).drop("last_ok_at", "last_rows_duplicate"))
    return 0
